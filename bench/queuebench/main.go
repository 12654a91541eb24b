// Command queuebench builds a journal index of many objects, then measures,
// in fresh child processes, how long a node takes to be ready again (Open
// returns and a read works) and its peak RSS (VmHWM).
//
//	go run ./bench/queuebench -n 1000000 -runs 3
package main

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/rs/zerolog"
)

const (
	defaultObjects = 1_000_000
	defaultRuns    = 3
	chunk          = 20_000 // objects per PutObjects call
	bucket         = "photos"
)

type childResult struct {
	ReadyMS float64 `json:"ready_ms"`
	HWMKiB  int64   `json:"hwm_kib"`
	Objects int64   `json:"objects"`
}

func main() {
	n := flag.Int("n", defaultObjects, "objects to index")
	runs := flag.Int("runs", defaultRuns, "re-open runs (child processes)")
	dir := flag.String("dir", "", "raft directory (default: a new temporary directory, removed at the end)")
	child := flag.Bool("child", false, "internal: open dir once and report")
	flag.Parse()
	if *child {
		if err := runChild(*dir); err != nil {
			fmt.Fprintln(os.Stderr, "queuebench child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*n, *runs, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "queuebench:", err)
		os.Exit(1)
	}
}

func object(i int) queue.Object {
	key := fmt.Sprintf("user%02d/2026/%02d/IMG_%07d.jpg", i%17, i%12+1, i)
	sum := sha256.Sum256([]byte(key))
	etag := md5.Sum([]byte(key))
	blob := hex.EncodeToString(sum[:])
	return queue.Object{
		Bucket: bucket, Key: key, VersionID: queue.NewVersionID(time.Now()),
		Blob: blob, SHA256: blob, Size: int64(100_000 + i%5_000_000), ETag: hex.EncodeToString(etag[:]),
		ContentType: "image/jpeg", ModTime: time.Now(),
	}
}

func run(count, runs int, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "queuebench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	ctx := context.Background()
	cfg := queue.DefaultConfig(dir)
	node := queue.New(cfg, zerolog.Nop())
	if err := node.Open(ctx); err != nil {
		return err
	}
	if err := node.CreateBucket(ctx, bucket, time.Time{}); err != nil {
		return err
	}
	start := time.Now()
	for from := 0; from < count; from += chunk {
		objs := make([]queue.Object, 0, chunk)
		for i := from; i < min(from+chunk, count); i++ {
			objs = append(objs, object(i))
		}
		for _, err := range node.PutObjects(ctx, objs) {
			if err != nil {
				return err
			}
		}
	}
	build := time.Since(start)
	st, err := node.Stats()
	if err != nil {
		return err
	}
	if err := node.Close(ctx); err != nil {
		return err
	}
	buildHWM := vmHWM()

	var results []childResult
	for r := 0; r < runs; r++ {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		out, err := exec.Command(exe, "-child", "-dir", dir).Output()
		if err != nil {
			return fmt.Errorf("child run %d: %w", r+1, err)
		}
		var res childResult
		if err := json.Unmarshal(out, &res); err != nil {
			return fmt.Errorf("child run %d: %q: %w", r+1, out, err)
		}
		results = append(results, res)
	}

	fsmSize := fileSize(filepath.Join(dir, "fsm.db"))
	fmt.Printf("queuebench: %d objects, %s/%s, GOMAXPROCS %d\n", count, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Printf("tunables: SnapshotThreshold %d entries, SnapshotLogBytes %d MiB, TrailingLogs %d, MaxBatchCommands %d\n",
		cfg.SnapshotThreshold, cfg.SnapshotLogBytes>>20, cfg.TrailingLogs, cfg.MaxBatchCommands)
	fmt.Printf("build: %s (%.0f objects/s), %d raft entries, peak RSS %.1f MiB\n",
		build.Round(time.Millisecond), float64(count)/build.Seconds(), st.AppliedIndex, float64(buildHWM)/1024)
	fmt.Printf("fsm.db: %.1f MiB = %.0f bytes/object (objects + pending jobs); wal/: %.1f MiB; snapshots/: %.1f MiB (%s)\n",
		mib(fsmSize), float64(fsmSize)/float64(count), mib(dirSize(filepath.Join(dir, "wal"))),
		mib(dirSize(filepath.Join(dir, "snapshots"))), snapshotNames(dir))
	fmt.Println()
	fmt.Println("| run | ready (Open + first read) | peak RSS (VmHWM) | objects |")
	fmt.Println("|---|---|---|---|")
	var ready []float64
	var hwm []int64
	for i, r := range results {
		fmt.Printf("| %d | %.0f ms | %.1f MiB | %d |\n", i+1, r.ReadyMS, float64(r.HWMKiB)/1024, r.Objects)
		ready = append(ready, r.ReadyMS)
		hwm = append(hwm, r.HWMKiB)
	}
	slices.Sort(ready)
	slices.Sort(hwm)
	fmt.Printf("| median | %.0f ms | %.1f MiB | targets: < 5000 ms, < 100 MiB |\n", ready[len(ready)/2], float64(hwm[len(hwm)/2])/1024)
	return nil
}

func runChild(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	node := queue.New(queue.DefaultConfig(dir), zerolog.Nop())
	if err := node.Open(ctx); err != nil {
		return err
	}
	if _, err := node.Object(bucket, object(0).Key); err != nil {
		return err
	}
	ready := time.Since(start)
	st, err := node.Stats()
	if err != nil {
		return err
	}
	res := childResult{ReadyMS: float64(ready.Microseconds()) / 1000, HWMKiB: vmHWM(), Objects: st.Objects}
	if err := node.Close(ctx); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// vmHWM is the process's peak resident set in KiB.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	return -1
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func dirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

func snapshotNames(dir string) string {
	entries, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ", ")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
