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

// clockTicks is USER_HZ, the unit of /proc/PID/stat times on Linux.
const clockTicks = 100

// CPUTime returns the CPU time (user + system) process pid ("self" for this
// one) has used so far.
func CPUTime(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: short line", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: bad line", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

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
