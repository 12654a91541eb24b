package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/restore"
)

// TestRestore_ResumeAfterKill kills a restore with SIGKILL halfway through a
// large object and runs it again: it continues inside the object.
func TestRestore_ResumeAfterKill(t *testing.T) {
	testResumeAfterKill(t, 64<<20, 2<<20, 16<<20)
}

// writeContent writes n deterministic bytes to a file, a MiB at a time, and
// returns the file and the bytes' SHA-256.
func writeContent(t *testing.T, n int64) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "content")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	for i := int64(0); i < n; i += 1 << 20 {
		if _, err := w.Write(testutil.Content(int(i>>20)+100, int(min(1<<20, n-i)))); err != nil {
			t.Fatal(err)
		}
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

// testResumeAfterKill restores an object of size bytes, in ranges of
// rangeSize, through a toxiproxy
// proxy that lets rate bytes/s through, kills the restore once about half of
// it has crossed the proxy, runs it again and counts what the second run
// fetched: at most what the first had not recorded as finished.
func testResumeAfterKill(t *testing.T, size, rangeSize int64, rate int) {
	vgw := testutil.StartVersityGW(t, restoreBucket)
	direct := newRestoreSetup(t, vgw.Endpoint, vgw)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	work := t.TempDir()

	// Populate the remote through the daemon: the large object and a small one.
	src, sum := writeContent(t, size)
	p := direct.serve(t, filepath.Join(work, "origin"))
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("media")}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("media"), Key: aws.String("film.mkv"), Body: f})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("media"), Key: aws.String("notes.txt"),
		Body: strings.NewReader("small, done at once")}); err != nil {
		t.Fatal(err)
	}
	direct.waitReplicated(t, p)
	direct.stop(t, p)

	proxy := testutil.StartProxy(t, vgw.Addr)
	proxy.AddToxic(t, "slow", "bandwidth", "downstream", map[string]any{"rate": rate / 1024}) // KB/s
	viaProxy := newRestoreSetup(t, proxy.Endpoint(), vgw)
	viaProxy.cfgPath = direct.cfgPath
	dataDir := filepath.Join(work, "restored")

	// First run: killed once about half of the object has crossed the proxy.
	rs := "--range-size=" + strconv.FormatInt(rangeSize, 10)
	cmd := exec.Command(buildGateway(t), "restore", "--config", viaProxy.cfgPath, "--data-dir", dataDir, rs)
	cmd.Env = append(os.Environ(), viaProxy.env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr lockedBuffer
	cmd.Stderr = writerFunc(func(b []byte) (int, error) { stderr.add(string(b)); return len(b), nil })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for deadline := time.Now().Add(10 * time.Minute); proxy.DownstreamBytes() < size/2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the restore did not reach half of the object (%d bytes)", proxy.DownstreamBytes())
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	var firstOut []string
	for l := range lines { // to EOF before Wait, which closes the pipe
		firstOut = append(firstOut, l)
	}
	cmd.Wait()
	first := proxy.DownstreamBytes()
	if !strings.Contains(strings.Join(firstOut, "\n"), `"name":"media/notes.txt","size":19,"status":"restored"`) {
		t.Fatalf("the small object was not restored before the kill:\n%s\n%s", strings.Join(firstOut, "\n"), stderr.String())
	}
	recorded := recordedBytes(t, dataDir, size, rangeSize)
	t.Logf("killed after %d of %d bytes crossed the proxy; %d bytes recorded as finished ranges", first, size, recorded)
	if recorded == 0 || recorded >= size {
		t.Fatalf("%d bytes recorded at the kill: want part of the object", recorded)
	}

	// Second run: only the ranges not recorded are fetched again.
	run := viaProxy.restore(t, dataDir, rs)
	second := proxy.DownstreamBytes() - first
	if run.code != 0 {
		t.Fatalf("the second run: %s", run)
	}
	if !strings.Contains(run.stdout, `"name":"media/notes.txt","size":19,"status":"skipped","reason":"already in the archive"`) {
		t.Errorf("the finished small object was not skipped by the second run:\n%s", run.stdout)
	}
	// Besides the object's bytes: the index, a LIST page and response headers.
	const overhead = 256 << 10
	inFlight := restore.DefaultRanges * rangeSize
	t.Logf("second run fetched %d bytes in %s, peak RSS %.1f MiB; the object's remainder was %d (unrecorded %d)",
		second, run.took.Round(time.Millisecond), float64(run.maxRSS)/(1<<20), size-first, size-recorded)
	if second > size-recorded+overhead {
		t.Errorf("the second run fetched %d bytes, more than the %d not recorded as finished", second, size-recorded)
	}
	if second > size-first+inFlight+overhead {
		t.Errorf("the second run fetched %d bytes, more than the remainder %d plus the ranges in flight", second, size-first)
	}

	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	a, err := openArchive(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(ctx)
	o, err := a.node.Object("media", "film.mkv")
	if err != nil || o.SHA256 != sum || o.Size != size {
		t.Fatalf("the restored object: %+v %v, want %d bytes with sha256 %s", o, err, size, sum)
	}
	if err := verifyArchive(ctx, a, io.Discard); err != nil {
		t.Fatalf("gateway verify of the restored archive: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dataDir, restoreStateDir, "partial", "*")); len(left) != 0 {
		t.Errorf("partial objects left behind: %v", left)
	}
}

// recordedBytes adds up the finished ranges recorded in the partial objects.
func recordedBytes(t *testing.T, dataDir string, size, rangeSize int64) int64 {
	t.Helper()
	dones, _ := filepath.Glob(filepath.Join(dataDir, restoreStateDir, "partial", "*", "done"))
	var n int64
	for _, d := range dones {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				n += rangeSize
			}
		}
	}
	return min(n, size)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
