package replication_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ipas/ipas/internal/testutil"
)

// resumeSize is the object of TestResumeAfterKill: the 256 MiB
// scaled down so that the default test run stays quick (see the slow tag
// for the full size).
var resumeSize = 40<<20 + 12345

// requestOverhead bounds the HTTP bytes besides part bodies after the
// restart: headers of ListParts, the remaining UploadParts, Complete, HEAD.
const requestOverhead = 64 << 10

// resumeCap is the upload limit of the killed process: the object takes
// a few seconds, so the kill lands in the middle of parts.
const resumeCap = 8 << 20

// TestResumeAfterKill kills the replicating process with SIGKILL at about
// half of a multipart upload under a bandwidth cap (the replicator's own), restarts, and checks
// that the upload completes, that no part the remote already had is sent
// again, and that the remote bytes hash to the local SHA-256.
func TestResumeAfterKill(t *testing.T) {
	gw := testutil.StartVersityGW(t, remoteBucket)
	px := testutil.StartProxy(t, gw.Addr)
	dir := t.TempDir()
	e := newEnvWith(t, gw, dir)
	data := randomBytes(resumeSize, 7)
	job := e.put("videos", "movie.mkv", data)
	e.closeStore()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), envChildDir+"="+dir, envChildEndpoint+"="+px.Endpoint(),
		envChildKey+"="+gw.AccessKey, envChildSecret+"="+gw.SecretKey)
	logf, err := os.Create(filepath.Join(dir, "child.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	child.Stdout, child.Stderr = logf, logf
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })

	journalPath := filepath.Join(dir, "journal.json")
	journaled := func() int64 {
		j, err := openFileJournal(journalPath)
		if err != nil {
			return 0 // caught mid-rename: try again
		}
		var n int64
		for _, pt := range j.State.Jobs[job.ID].PartsDone {
			n += pt.Size
		}
		return n
	}
	waitFor(t, "half of the parts journaled", func() bool { return journaled() >= int64(resumeSize)/2 })
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	sentBefore := px.UpstreamBytes()
	done := journaled()
	remaining := int64(resumeSize) - done

	e.reopen()
	e.start(testConfig(), e.newRemote(px.Endpoint()), nil)
	waitFor(t, "upload completed after the restart", func() bool { return e.journal.pending() == 0 })
	sentAfter := px.UpstreamBytes() - sentBefore

	t.Logf("object %s; journaled at kill %s; sent before kill %s; sent after restart %s (remaining %s)",
		mib(float64(resumeSize)), mib(float64(done)), mib(float64(sentBefore)), mib(float64(sentAfter)), mib(float64(remaining)))
	if sentAfter > remaining+requestOverhead {
		t.Errorf("sent %d bytes after the restart, but only %d remained: parts were sent again", sentAfter, remaining)
	}
	if got, want := firstOf(e.remoteSHA256("videos", "movie.mkv")), sha256Hex(data); got != want {
		t.Errorf("remote sha256 %s, want %s", got, want)
	}
}

func firstOf[A, B any](a A, _ B) A { return a }
