package benchkit

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// PeakRSSKiB reads VmHWM (KiB) of /proc/<pid>/status ("self" for this process).
func PeakRSSKiB(pid string) (int64, error) { return StatusKiB(pid, "VmHWM:") }

// StatusKiB reads a KiB field of /proc/<pid>/status, such as "VmHWM:" or
// "RssAnon:".
func StatusKiB(pid, field string) (int64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%s/status", field, pid)
}

// Median of v (0 for none); v is not changed.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MedianInt is Median of integers.
func MedianInt(v []int64) int64 {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return int64(Median(f))
}

// peakRSSPoll is how often WatchPeakRSS reads VmHWM.
const peakRSSPoll = 10 * time.Millisecond

// WatchPeakRSS samples a child's VmHWM every peakRSSPoll until the returned
// function is called, which gives the last sample (KiB); VmHWM only grows,
// so it misses at most the child's last few milliseconds. rusage's Maxrss
// is no use for a child started by os/exec: the child shares the parent's
// memory until exec, and the kernel counts the parent's high-water mark as
// the child's.
func WatchPeakRSS(pid int) (stop func() int64) { return WatchPeak(pid, "VmHWM:") }

// WatchPeak samples a KiB field of a process's /proc status (StatusKiB)
// every peakRSSPoll until the returned function is called, which gives the
// highest sample.
func WatchPeak(pid int, field string) (stop func() int64) {
	var peak atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(peakRSSPoll)
		defer t.Stop()
		for {
			if kib, err := StatusKiB(strconv.Itoa(pid), field); err == nil {
				peak.Store(max(peak.Load(), kib))
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak.Load()
	}
}
