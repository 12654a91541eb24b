// Command storebench compares store.Put of one large blob with dd writing the same
// amount of data with conv=fsync, on the same filesystem, in interleaved rounds, and
// reports the peak RSS of the process doing the Put. Run it as:
//
//	go run ./bench/storebench -dir /path/on/the/disk/to/test
//
// Each Put runs in a child process (this program re-executed with -child) so that its
// VmHWM covers the Put alone. Times are each tool's own: dd's reported seconds (open
// to fsync) and the duration of the Put call (Create to Commit, fsyncs included).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/store"
	"github.com/rs/zerolog"
)

const (
	defaultSize   = 1 << 30
	defaultRounds = 3
	ddBlockSize   = 1 << 20
)

type config struct {
	dir        string
	size       int64
	rounds     int
	input      string
	bufferSize int
	buffers    int
	writeback  int64
	child      bool
}

// childResult is what the child prints on stdout.
type childResult struct {
	Seconds float64 `json:"seconds"`
	HWMKiB  int64   `json:"hwm_kib"`
	Digest  string  `json:"digest"`
}

func main() {
	var c config
	flag.StringVar(&c.dir, "dir", "storebench-data", "scratch directory on the filesystem to measure (removed at the end)")
	flag.Int64Var(&c.size, "size", defaultSize, "bytes per write; a multiple of 1 MiB")
	flag.IntVar(&c.rounds, "rounds", defaultRounds, "interleaved rounds (medians are printed)")
	flag.StringVar(&c.input, "input", "zero", "zero: both read /dev/zero; random: both read one pre-generated pseudo-random file (page-cached)")
	flag.IntVar(&c.bufferSize, "buffer-size", store.DefaultBufferSize, "store.Store.BufferSize")
	flag.IntVar(&c.buffers, "buffers", store.DefaultBuffers, "store.Store.Buffers")
	flag.Int64Var(&c.writeback, "writeback-step", store.DefaultWritebackStep, "store.Store.WritebackStep (0: off)")
	flag.BoolVar(&c.child, "child", false, "internal: run one Put and print the result as JSON")
	flag.Parse()
	var err error
	if c.child {
		err = runChild(c)
	} else {
		err = run(c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

func inputPath(c config) string {
	if c.input == "zero" {
		return "/dev/zero"
	}
	return filepath.Join(c.dir, "input.bin")
}

func runChild(c config) error {
	ctx := context.Background()
	s := store.New(filepath.Join(c.dir, "store"), zerolog.Nop())
	s.BufferSize, s.Buffers, s.WritebackStep = c.bufferSize, c.buffers, c.writeback
	if err := s.Open(ctx); err != nil {
		return err
	}
	defer s.Close(ctx)
	f, err := os.Open(inputPath(c))
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	blob, err := s.Put(ctx, io.LimitReader(f, c.size))
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	s.Unpin(blob.Digest)
	if blob.Size != c.size {
		return fmt.Errorf("put stored %d bytes, want %d", blob.Size, c.size)
	}
	hwm, err := peakRSSKiB()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(childResult{Seconds: elapsed.Seconds(), HWMKiB: hwm, Digest: blob.Digest.String()})
}

// peakRSSKiB reads this process's high-water resident set size.
func peakRSSKiB() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

type round struct {
	ddMBs, putMBs float64
	hwmKiB        int64
}

func run(c config) error {
	if c.size%ddBlockSize != 0 || c.size <= 0 || c.rounds < 1 {
		return fmt.Errorf("-size must be a positive multiple of %d and -rounds at least 1", ddBlockSize)
	}
	if c.input != "zero" && c.input != "random" {
		return fmt.Errorf("-input must be zero or random")
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(c.dir)
	if c.input == "random" {
		if err := writeRandom(inputPath(c), c.size); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var rounds []round
	for i := range c.rounds {
		var r round
		steps := []func() error{
			func() (err error) { r.ddMBs, err = runDD(c); return err },
			func() (err error) { r.putMBs, r.hwmKiB, err = runPut(c, self); return err },
		}
		if i%2 == 1 { // alternate which goes first
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := syncAll(); err != nil {
				return err
			}
			if err := step(); err != nil {
				return err
			}
		}
		rounds = append(rounds, r)
	}
	printTable(c, rounds)
	return nil
}

var ddSeconds = regexp.MustCompile(`copied, ([0-9.]+) s`)

func runDD(c config) (float64, error) {
	out := filepath.Join(c.dir, "dd.bin")
	defer os.Remove(out)
	cmd := exec.Command("dd", "if="+inputPath(c), "of="+out, "bs="+strconv.Itoa(ddBlockSize),
		"count="+strconv.FormatInt(c.size/ddBlockSize, 10), "conv=fsync")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("dd: %v: %s", err, msg)
	}
	m := ddSeconds.FindSubmatch(msg)
	if m == nil {
		return 0, fmt.Errorf("dd: no timing in %q", msg)
	}
	sec, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, err
	}
	return float64(c.size) / sec / 1e6, nil
}

func runPut(c config, self string) (float64, int64, error) {
	defer os.RemoveAll(filepath.Join(c.dir, "store")) // next round must not dedup
	cmd := exec.Command(self, "-child", "-dir", c.dir, "-size", strconv.FormatInt(c.size, 10),
		"-input", c.input, "-buffer-size", strconv.Itoa(c.bufferSize), "-buffers", strconv.Itoa(c.buffers),
		"-writeback-step", strconv.FormatInt(c.writeback, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("put child: %w", err)
	}
	var res childResult
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, 0, fmt.Errorf("put child said %q: %w", out, err)
	}
	return float64(c.size) / res.Seconds / 1e6, res.HWMKiB, nil
}

// syncAll flushes dirty pages left by the previous step so that it does not slow
// down the next one.
func syncAll() error {
	if out, err := exec.Command("sync").CombinedOutput(); err != nil {
		return fmt.Errorf("sync: %v: %s", err, out)
	}
	return nil
}

func writeRandom(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var seed [32]byte
	r := rand.NewChaCha8(seed)
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func printTable(c config, rounds []round) {
	fmt.Printf("storebench: %d MiB per write, input %s (%s), dir %s, BufferSize %d, Buffers %d, WritebackStep %d\n",
		c.size>>20, c.input, inputPath(c), c.dir, c.bufferSize, c.buffers, c.writeback)
	fmt.Printf("%-8s %12s %12s %8s %14s\n", "round", "dd MB/s", "Put MB/s", "ratio", "Put peak RSS")
	var dd, put, ratio, hwm []float64
	for i, r := range rounds {
		fmt.Printf("%-8d %12.1f %12.1f %8.2f %10.1f MiB\n", i+1, r.ddMBs, r.putMBs, r.putMBs/r.ddMBs, float64(r.hwmKiB)/1024)
		dd, put, ratio = append(dd, r.ddMBs), append(put, r.putMBs), append(ratio, r.putMBs/r.ddMBs)
		hwm = append(hwm, float64(r.hwmKiB)/1024)
	}
	fmt.Printf("%-8s %12.1f %12.1f %8.2f %10.1f MiB\n", "median", median(dd), median(put), median(ratio), median(hwm))
}
