package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const (
	crashDirEnv   = "IPAS_STORE_CRASH_DIR"
	crashChildRun = "^TestCrashChild$"
	crashRounds   = 5
)

// TestCrashChild is the process TestKillDuringPuts kills: it puts blobs from two
// goroutines and prints each digest once Put has returned.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestKillDuringPuts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := New(dir, zerolog.Nop())
	if err := s.Open(ctx); err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(g)))
			for ctx.Err() == nil {
				b := content(r.Uint64(), r.IntN(3<<20))
				blob, err := s.Put(ctx, strings.NewReader(string(b)))
				mu.Lock()
				if err != nil {
					fmt.Println("error", err)
				} else {
					fmt.Println(blob.Digest, blob.Size)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestKillDuringPuts kills a writing process with SIGKILL at arbitrary moments and
// checks that every blob it reported is complete, that no blob on disk is partial,
// and that the next Open removes the temp files it left.
func TestKillDuringPuts(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("inside the helper process")
	}
	dir := t.TempDir()
	committed := map[Digest]int64{}
	r := rand.New(rand.NewPCG(42, 42))
	leftovers := 0
	for round := range crashRounds {
		ctx := testContext(t)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+crashChildRun, "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + r.IntN(8)
		sc := bufio.NewScanner(out)
		lines := 0
		for sc.Scan() {
			var hex string
			var size int64
			if _, err := fmt.Sscan(sc.Text(), &hex, &size); err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			d, err := ParseDigest(hex)
			if err != nil {
				t.Fatalf("child said %q: %v", sc.Text(), err)
			}
			committed[d] = size
			if lines++; lines == killAfter {
				time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
				cmd.Process.Kill()
			}
		}
		cmd.Wait()
		leftovers += len(dirNames(t, filepath.Join(dir, tmpDirName)))

		s := New(dir, zerolog.Nop())
		if err := s.Open(ctx); err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		if f := tempFiles(t, s); len(f) != 0 {
			t.Fatalf("round %d: temp files after Open: %v", round, f)
		}
		for d, size := range committed {
			if err := s.Verify(ctx, d, size); err != nil {
				t.Fatalf("round %d: reported blob: %v", round, err)
			}
		}
		for _, path := range blobFiles(t, s) {
			d, err := ParseDigest(filepath.Base(path))
			if err != nil {
				t.Fatalf("round %d: stray file %s", round, path)
			}
			if err := s.Verify(ctx, d, -1); err != nil {
				t.Fatalf("round %d: partial blob visible: %v", round, err)
			}
		}
		s.Close(ctx)
	}
	t.Logf("%d blobs reported, %d temp files left behind, across %d kills", len(committed), leftovers, crashRounds)
}
