//go:build crash

package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// crashCycles is how many SIGKILL/restart cycles TestCrashSafety runs; CI runs the
// default, IPAS_CRASH_CYCLES raises it for a soak.
func crashCycles(t *testing.T) int {
	if v := os.Getenv("IPAS_CRASH_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("IPAS_CRASH_CYCLES=%q is not a positive number", v)
		}
		return n
	}
	return 50
}

const (
	crashSharedKeys = 8  // keys overwritten by every cycle
	crashUniqueKeys = 24 // keys new in every cycle
	crashBucket     = "crash"
)

// crashFile is one file a cycle tries to archive.
type crashFile struct {
	key    string
	sha256 string
	size   int
}

// TestCrashSafety runs the real binary, archives files through `gateway import`
// (the store + journal path every writer uses), SIGKILLs it at random moments and
// checks after each kill that every acknowledged object is present and
// byte-identical, and that no object in the index is partial.
func TestCrashSafety(t *testing.T) {
	bin := buildGateway(t)
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	rng := rand.New(rand.NewPCG(20261121, uint64(time.Now().UnixNano())))

	acked := map[string]string{}             // key -> sha256 of the last acknowledged version
	attempted := map[string]map[string]int{} // key -> sha256 -> the cycle that wrote it
	var kills, ackTotal int
	// The S3 crash test carries the full count; this one covers the import path.
	cycles := max(crashCycles(t)/3, 5)
	for cycle := range cycles {
		src := filepath.Join(work, fmt.Sprintf("src%03d", cycle))
		files := writeCycleFiles(t, src, cycle, rng)
		for _, f := range files {
			if attempted[f.key] == nil {
				attempted[f.key] = map[string]int{}
			}
			attempted[f.key][f.sha256] = cycle
		}
		cmd := exec.Command(bin, "import", "--data-dir", dataDir, "--jobs", "8", "--log-level", "warn", crashBucket, src)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill either after a random number of acknowledgements, or at a random time
		// within the import's run: a stopped data directory's journal elects itself
		// in 50-100 ms, and 32 small files take a few hundred more.
		killAfterAcks := rng.IntN(len(files) + 1)
		killTimer := time.AfterFunc(time.Duration(20+rng.IntN(380))*time.Millisecond, func() {
			cmd.Process.Signal(syscall.SIGKILL)
		})
		lines := bufio.NewScanner(stdout)
		n := 0
		for lines.Scan() {
			key, sum := parseAck(t, lines.Text())
			acked[key] = sum
			n++
			if cycle%2 == 0 && n >= killAfterAcks {
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		killTimer.Stop()
		err = cmd.Wait()
		if err == nil {
			// The import finished before the kill: fine, but it must have acked everything.
			if n != len(files) {
				t.Fatalf("cycle %d: import exited 0 after acknowledging %d of %d files", cycle, n, len(files))
			}
		} else if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("cycle %d: import failed on its own: %v\n%s", cycle, err, stderr.String())
		} else {
			kills++
		}
		ackTotal += n
		checkArchive(t, cycle, dataDir, acked, attempted)
	}
	t.Logf("%d cycles, %d killed mid-run, %d acknowledged objects, all present and intact", cycles, kills, ackTotal)
	if kills < cycles/2 {
		t.Fatalf("only %d of %d cycles were killed mid-run: the test did not exercise crashes", kills, cycles)
	}
}

// writeCycleFiles writes this cycle's source tree: new content for the shared keys and
// a set of new keys, sizes from a few bytes to a few MiB.
func writeCycleFiles(t *testing.T, dir string, cycle int, rng *rand.Rand) []crashFile {
	var files []crashFile
	add := func(key string) {
		size := rng.IntN(64 << 10)
		if rng.IntN(6) == 0 {
			size = 1<<20 + rng.IntN(5<<20)
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		path := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		files = append(files, crashFile{key: key, sha256: hex.EncodeToString(sum[:]), size: size})
	}
	for i := range crashSharedKeys {
		add(fmt.Sprintf("shared/f%02d", i))
	}
	for i := range crashUniqueKeys {
		add(fmt.Sprintf("cycle%03d/f%02d.bin", cycle, i))
	}
	return files
}

// parseAck reads "archived BUCKET/KEY SIZE SHA256".
func parseAck(t *testing.T, line string) (key, sum string) {
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "archived" || !strings.HasPrefix(f[1], crashBucket+"/") {
		t.Fatalf("unexpected import output %q", line)
	}
	return strings.TrimPrefix(f[1], crashBucket+"/"), f[3]
}

// checkArchive opens the data directory the way the daemon does (which is also the
// restart) and checks every acknowledged object and every object in the index.
func checkArchive(t *testing.T, cycle int, dataDir string, acked map[string]string, attempted map[string]map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	a, err := openArchive(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("cycle %d: restart after SIGKILL: %v", cycle, err)
	}
	defer a.close(ctx)

	seen := 0
	after := ""
	for {
		objs, more, err := a.node.ListObjects(crashBucket, "", after, 1000)
		if errors.Is(err, queue.ErrNoSuchBucket) && len(acked) == 0 {
			return // killed before the import created its bucket: nothing was acknowledged
		}
		if err != nil {
			t.Fatalf("cycle %d: list: %v", cycle, err)
		}
		for _, o := range objs {
			seen++
			wrote, ok := attempted[o.Key][o.SHA256]
			if !ok {
				t.Fatalf("cycle %d: %s has content %s that was never written", cycle, o.Key, o.SHA256)
			}
			// Never older than the last acknowledged version: no rollback.
			if sum, isAcked := acked[o.Key]; isAcked && wrote < attempted[o.Key][sum] {
				t.Fatalf("cycle %d: %s went back to the version of cycle %d, cycle %d's was acknowledged", cycle, o.Key, wrote, attempted[o.Key][sum])
			}
			// Byte-identical: the blob re-hashes to the SHA-256 the source file had.
			if strings.HasPrefix(o.Key, "shared/") || strings.HasPrefix(o.Key, fmt.Sprintf("cycle%03d/", cycle)) {
				checkObjectBytes(t, cycle, a.store, o)
			}
		}
		if !more {
			break
		}
		after = objs[len(objs)-1].Key
	}
	for key, sum := range acked {
		o, err := a.node.Object(crashBucket, key)
		if err != nil {
			t.Fatalf("cycle %d: acknowledged object %s lost: %v", cycle, key, err)
		}
		// A shared key may hold a newer, unacknowledged version: that is complete too.
		if o.SHA256 != sum && !strings.HasPrefix(key, "shared/") {
			t.Fatalf("cycle %d: acknowledged object %s has sha256 %s, want %s", cycle, key, o.SHA256, sum)
		}
	}
	if seen < len(acked) {
		t.Fatalf("cycle %d: index lists %d objects, %d were acknowledged", cycle, seen, len(acked))
	}
}

func checkObjectBytes(t *testing.T, cycle int, st *store.Store, o queue.Object) {
	d, err := store.ParseDigest(o.Blob)
	if err != nil {
		t.Fatalf("cycle %d: %s: %v", cycle, o.Key, err)
	}
	r, err := st.OpenBlob(context.Background(), d, o.Size, 0, -1)
	if err != nil {
		t.Fatalf("cycle %d: %s is in the index but its blob is not readable: %v", cycle, o.Key, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil || n != o.Size || hex.EncodeToString(h.Sum(nil)) != o.SHA256 {
		t.Fatalf("cycle %d: %s is partial or corrupt: read %d of %d bytes, err %v", cycle, o.Key, n, o.Size, err)
	}
}
