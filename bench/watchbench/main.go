// Command watchbench measures the drop-folder watcher against a real store and
// journal on the local disk and prints a table:
//
//   - latency from a file's last write to its object being committed (1,000 files);
//   - a reconcile scan of 100,000 unchanged files in 10,000 directories (no file read);
//   - the peak RSS (VmHWM) of a process watching that tree, measured in a child
//     process, next to a child that opens only the store and the journal.
//
// Usage: go run ./bench/watchbench [-dir DIR] [-runs 3]
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
	"github.com/ipas/ipas/watcher"
)

func main() {
	dir := flag.String("dir", "", "work directory (default: a new temp directory, removed at the end)")
	runs := flag.Int("runs", 3, "runs of each measurement; medians are printed")
	nLat := flag.Int("latency-files", 1000, "files of the latency run")
	nDirs := flag.Int("dirs", 10000, "directories of the scan tree")
	perDir := flag.Int("files-per-dir", 10, "files per directory of the scan tree")
	child := flag.String("child", "", "internal: run one measurement in this process (prepare, scan, base)")
	flag.Parse()
	if *child != "" {
		if err := runChild(*child, *dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "watchbench-")
		check(err)
		defer os.RemoveAll(d)
		*dir = d
	}
	fmt.Printf("watchbench: %s, %d runs\n\n", *dir, *runs)

	var p50s, p99s, maxs []time.Duration
	for i := 0; i < *runs; i++ {
		p50, p99, mx := latency(filepath.Join(*dir, fmt.Sprint("latency-", i)), *nLat)
		p50s, p99s, maxs = append(p50s, p50), append(p99s, p99), append(maxs, mx)
	}
	tree := filepath.Join(*dir, "tree")
	if _, err := os.Stat(filepath.Join(*dir, "prepared")); err != nil {
		t0 := time.Now()
		makeTree(tree, *nDirs, *perDir)
		fmt.Printf("tree: %d files in %d directories written in %s\n", *nDirs**perDir, *nDirs, time.Since(t0).Round(time.Millisecond))
		out := childRun("prepare", *dir)
		fmt.Printf("tree archived by a watcher in %s\n", out.Duration.Round(time.Millisecond))
		check(os.WriteFile(filepath.Join(*dir, "prepared"), nil, 0o644))
	}
	var scans, hwm, rss, base []float64
	var scanRead int64
	var watched int64
	for i := 0; i < *runs; i++ {
		out := childRun("scan", *dir)
		scans = append(scans, out.Duration.Seconds())
		hwm, rss = append(hwm, out.HWM), append(rss, out.RSS)
		scanRead += out.BytesRead
		watched = out.Watched
		b := childRun("base", *dir)
		base = append(base, b.HWM)
	}
	fmt.Println()
	fmt.Printf("%-58s %12s %12s\n", "measurement (median of runs)", "result", "target")
	fmt.Printf("%-58s %12s %12s\n", fmt.Sprintf("last write -> committed, p50 (%d files, 2s window)", *nLat), med(p50s), "")
	fmt.Printf("%-58s %12s %12s\n", "last write -> committed, p99", med(p99s), "<= 3s")
	fmt.Printf("%-58s %12s %12s\n", "last write -> committed, max", med(maxs), "")
	fmt.Printf("%-58s %11.2fs %12s\n", fmt.Sprintf("reconcile of %d unchanged files", *nDirs**perDir), medf(scans), "< 10s")
	fmt.Printf("%-58s %12d %12s\n", "  bytes of file content read by those reconciles", scanRead, "0")
	fmt.Printf("%-58s %9.1f MiB %12s\n", fmt.Sprintf("VmHWM, watcher + store + journal, %d dirs watched", watched), medf(hwm), "< 64 MiB")
	fmt.Printf("%-58s %9.1f MiB %12s\n", "VmRSS at the end of that run", medf(rss), "")
	fmt.Printf("%-58s %9.1f MiB %12s\n", "VmHWM, store + journal only (same archive)", medf(base), "")
}

// latency writes n files at about 200 a second and measures, for each, the time
// from the close of its last write to its commit.
func latency(dir string, n int) (p50, p99, mx time.Duration) {
	ctx := context.Background()
	a := openArchive(dir)
	defer a.close()
	drop := filepath.Join(dir, "drop")
	check(os.MkdirAll(drop, 0o755))
	f := watcher.DefaultFolder()
	f.Path, f.Bucket = drop, "latency"
	cfg := watcher.DefaultConfig()
	cfg.Folders = []watcher.Folder{f}
	w := watcher.New(cfg, dir, a.node, a.store, zerolog.Nop())
	var mu sync.Mutex
	committed := map[string]time.Time{}
	w.OnIngest = func(in watcher.Ingested) {
		mu.Lock()
		committed[in.Path] = in.Committed
		mu.Unlock()
	}
	check(w.Open(ctx))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(rctx); close(done) }()
	check(w.WaitIdle(ctx))

	written := map[string]time.Time{}
	buf := make([]byte, 64<<10)
	for i := 0; i < n; i++ {
		p := filepath.Join(drop, fmt.Sprint("d", i%20), fmt.Sprintf("f%04d.bin", i))
		check(os.MkdirAll(filepath.Dir(p), 0o755))
		rand.Read(buf)
		size := 1<<10 + i*61%(len(buf)-1<<10)
		check(os.WriteFile(p, buf[:size], 0o644))
		written[p] = time.Now()
		time.Sleep(5 * time.Millisecond)
	}
	check(w.WaitIdle(ctx))
	cancel()
	<-done
	check(w.Close(ctx))
	var lat []time.Duration
	for p, t := range written {
		c, ok := committed[p]
		if !ok {
			panic("not archived: " + p)
		}
		lat = append(lat, c.Sub(t))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
}

func makeTree(root string, dirs, perDir int) {
	top := 100
	var wg sync.WaitGroup
	for t := 0; t < top; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := t; s < dirs; s += top {
				d := filepath.Join(root, fmt.Sprintf("t%03d", t), fmt.Sprintf("s%05d", s))
				check(os.MkdirAll(d, 0o755))
				for f := 0; f < perDir; f++ {
					check(os.WriteFile(filepath.Join(d, fmt.Sprintf("f%02d.txt", f)), []byte(fmt.Sprintf("file %d of directory %d\n", f, s)), 0o644))
				}
			}
		}()
	}
	wg.Wait()
}

// childOut is what a child process reports on stdout.
type childOut struct {
	Duration  time.Duration
	BytesRead int64
	Watched   int64
	HWM, RSS  float64 // MiB
}

func childRun(mode, dir string) childOut {
	cmd := exec.Command(os.Args[0], "-child", mode, "-dir", dir)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	check(err)
	var out childOut
	check(json.Unmarshal(b, &out))
	return out
}

// runChild runs one measurement over DIR/tree and DIR/archive.
func runChild(mode, dir string) error {
	ctx := context.Background()
	a := openArchive(filepath.Join(dir, "archive"))
	defer a.close()
	var out childOut
	if mode != "base" {
		f := watcher.DefaultFolder()
		f.Path, f.Bucket = filepath.Join(dir, "tree"), "tree"
		cfg := watcher.DefaultConfig()
		cfg.Folders = []watcher.Folder{f}
		w := watcher.New(cfg, filepath.Join(dir, "archive"), a.node, a.store, zerolog.New(os.Stderr).Level(zerolog.WarnLevel))
		if mode == "prepare" {
			w.Workers = 32 // only to build the archive faster
		}
		if err := w.Open(ctx); err != nil {
			return err
		}
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan struct{})
		t0 := time.Now()
		go func() { w.Run(rctx); close(done) }()
		if err := w.WaitIdle(ctx); err != nil {
			return err
		}
		out.Duration = time.Since(t0)
		if mode == "scan" {
			t0 = time.Now()
			if err := w.Reconcile(ctx); err != nil {
				return err
			}
			out.Duration = time.Since(t0)
			if err := w.WaitIdle(ctx); err != nil {
				return err
			}
			out.BytesRead = w.Stats().BytesRead // the start-up scan must not read either
			out.Watched = w.Stats().WatchedDirs
		}
		out.HWM, out.RSS = memStatus()
		cancel()
		<-done
		if err := w.Close(ctx); err != nil {
			return err
		}
	} else {
		out.HWM, out.RSS = memStatus()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// memStatus returns VmHWM and VmRSS in MiB.
func memStatus() (hwm, rss float64) {
	b, err := os.ReadFile("/proc/self/status")
	check(err)
	for _, l := range strings.Split(string(b), "\n") {
		var kb float64
		if _, err := fmt.Sscanf(l, "VmHWM: %f kB", &kb); err == nil {
			hwm = kb / 1024
		}
		if _, err := fmt.Sscanf(l, "VmRSS: %f kB", &kb); err == nil {
			rss = kb / 1024
		}
	}
	return hwm, rss
}

type archive struct {
	node  *queue.Node
	store *store.Store
}

func openArchive(dir string) *archive {
	ctx := context.Background()
	st := store.New(filepath.Join(dir, "store"), zerolog.Nop())
	check(st.Open(ctx))
	node := queue.New(queue.DefaultConfig(filepath.Join(dir, "journal")), zerolog.Nop())
	check(node.Open(ctx))
	return &archive{node: node, store: st}
}

func (a *archive) close() {
	a.node.Close(context.Background())
	a.store.Close(context.Background())
}

func med(d []time.Duration) string {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(time.Millisecond).String()
}

func medf(f []float64) float64 {
	s := append([]float64(nil), f...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
