package queue

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// Environment of the child process of TestCrashKeepsAcknowledgedWrites.
const (
	crashDirEnv    = "QUEUE_CRASH_DIR"
	crashCycleEnv  = "QUEUE_CRASH_CYCLE"
	crashCyclesEnv = "QUEUE_CRASH_CYCLES" // more cycles for a soak
	crashWriters   = 64
)

// TestCrashKeepsAcknowledgedWrites SIGKILLs a process that writes from 64
// goroutines (so that batches are in flight in raft and the state machine)
// at a random moment, then checks that every write it acknowledged is
// there, with its blob reported to the store's collector.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		crashChild()
		return
	}
	cycles := 4
	if v, err := strconv.Atoi(os.Getenv(crashCyclesEnv)); err == nil && v > 0 {
		cycles = v
	}
	cfg := testConfig(t.TempDir())
	acked := map[string]string{} // key -> version ID
	for cycle := range cycles {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashKeepsAcknowledgedWrites$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+cfg.Dir, crashCycleEnv+"="+strconv.Itoa(cycle))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Kill after some writes were acknowledged, at a random point.
		killAfter := 200 + rand.IntN(5000)
		n := 0
		for line := range lines {
			if key, version, ok := strings.Cut(line, " "); ok {
				acked[key] = version
				n++
			}
			if n == killAfter {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		cmd.Wait()
		cancel()
		if n < killAfter {
			t.Fatalf("cycle %d: the child stopped after %d acknowledged writes", cycle, n)
		}

		node := openNode(t, cfg)
		marked := markedBlobs(t, node)
		for key, version := range acked {
			// A later overwrite may have committed without its answer
			// getting out: versions sort by cycle and write.
			o, err := node.Object("b", key)
			if err != nil || o.VersionID < version {
				t.Fatalf("cycle %d: acknowledged %s (%s) after the kill: %+v %v", cycle, key, version, o, err)
			}
			if !marked[o.Blob] {
				t.Fatalf("cycle %d: the blob of %s is not reported as referenced", cycle, key)
			}
		}
		if s := stats(t, node); s.Objects < int64(len(acked)) {
			t.Fatalf("cycle %d: %d objects, %d acknowledged", cycle, s.Objects, len(acked))
		}
		closeNode(t, node)
	}
}

// crashChild writes until it is killed, printing "key version" for each
// acknowledged put.
func crashChild() {
	cfg := testConfig(os.Getenv(crashDirEnv))
	cycle := os.Getenv(crashCycleEnv) // at most 4 digits
	n := New(cfg, zerolog.Nop())
	ctx := context.Background()
	if err := n.Open(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n.CreateBucket(ctx, "b", time.Time{})
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				// Half the keys are overwritten in every cycle.
				key := fmt.Sprintf("w%02d/%d", g, i%50)
				if i%2 == 1 {
					key = fmt.Sprintf("c%s/w%02d/%d", cycle, g, i)
				}
				o := testObject("b", key, key+cycle)
				o.VersionID = fmt.Sprintf("%04s-%08d-%02d", cycle, i, g)
				if err := n.PutObject(ctx, o); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(w, "%s %s\n", key, o.VersionID)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
