package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// holdSyncs makes the staged-blob syncer wait until the returned func is
// called, so that a test sees blobs while they are staged.
func holdSyncs(s *Store) (release func()) {
	gate := make(chan struct{})
	var once sync.Once
	sync := s.syncfs
	s.syncfs = func() error {
		<-gate
		return sync()
	}
	return func() { once.Do(func() { close(gate) }) }
}

func mustStage(t *testing.T, s *Store, data []byte) (Blob, bool) {
	t.Helper()
	b, staged, err := s.Stage(testContext(t), data, nil)
	if err != nil {
		t.Fatalf("stage %d bytes: %v", len(data), err)
	}
	if b.Digest != digestOf(data) || b.Size != int64(len(data)) {
		t.Fatalf("stage: got %+v, want digest %s", b, digestOf(data))
	}
	return b, staged
}

func TestStageServesAtOnceAndSyncsIntoPlace(t *testing.T) {
	s := openStore(t, "")
	release := holdSyncs(s)
	defer release()
	data := content(1, 4096)
	b, staged := mustStage(t, s, data)
	if !staged {
		t.Fatal("a new blob was not staged")
	}
	// Readable while staged, not yet in blobs/, and not reported as durable.
	if got, err := readBlob(t, s, b.Digest, b.Size, 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read staged blob: %v (equal %v)", err, bytes.Equal(got, data))
	}
	if got, err := readBlob(t, s, b.Digest, b.Size, 100, 10); err != nil || !bytes.Equal(got, data[100:110]) {
		t.Fatalf("ranged read of staged blob: %v", err)
	}
	if _, err := os.Lstat(blobPath(s.blobs, b.Digest)); !os.IsNotExist(err) {
		t.Fatalf("staged blob is in place before it is durable: %v", err)
	}
	if ok, _ := s.Has(b.Digest); ok {
		t.Fatal("Has reports a staged blob as durable")
	}
	// The same content again shares the staged file.
	if _, staged := mustStage(t, s, data); !staged {
		t.Fatal("second stage of staged content: staged = false")
	}

	ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
	defer cancel()
	if err := s.SyncStaged(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SyncStaged with the syncer held = %v, want deadline exceeded", err)
	}
	release()
	if err := s.SyncStaged(testContext(t)); err != nil {
		t.Fatalf("SyncStaged: %v", err)
	}
	if ok, err := s.Has(b.Digest); !ok || err != nil {
		t.Fatalf("Has after SyncStaged = %v, %v", ok, err)
	}
	info, err := os.Stat(blobPath(s.blobs, b.Digest))
	if err != nil || info.Mode().Perm() != blobMode {
		t.Fatalf("blob in place: %v, mode %v", err, info.Mode())
	}
	if got, err := readBlob(t, s, b.Digest, b.Size, 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read synced blob: %v", err)
	}
	if err := s.Verify(testContext(t), b.Digest, b.Size); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if files := blobFiles(t, s); len(files) != 1 {
		t.Fatalf("files left besides the blob: %v", files)
	}
	if left := tempFiles(t, s); len(left) != 0 {
		t.Fatalf("staged files left: %v", left)
	}
	// Both stages pinned; an identical durable blob is reused unstaged.
	if _, staged := mustStage(t, s, data); staged {
		t.Fatal("stage of durable content: staged = true")
	}
	if got := s.pins[b.Digest]; got != 3 {
		t.Fatalf("pins = %d, want 3 (one per Stage)", got)
	}
}

func TestStageRefusesWrongDigest(t *testing.T) {
	s := openStore(t, "")
	want := digestOf([]byte("other"))
	_, _, err := s.Stage(testContext(t), []byte("data"), &want)
	var mismatch *DigestMismatchError
	if !errors.As(err, &mismatch) || mismatch.Want != want || mismatch.Got != digestOf([]byte("data")) {
		t.Fatalf("stage with a wrong digest = %v, want DigestMismatchError", err)
	}
	noFilesLeft(t, s, "a refused stage")
}

func TestStageWaitsForTheDisk(t *testing.T) {
	s := openStore(t, "", func(s *Store) { s.MaxStaged = 2 })
	release := holdSyncs(s)
	defer release()
	mustStage(t, s, []byte("one"))
	mustStage(t, s, []byte("two"))
	ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
	defer cancel()
	if _, _, err := s.Stage(ctx, []byte("three"), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stage beyond MaxStaged = %v, want it to wait until its deadline", err)
	}
	release()
	b, _ := mustStage(t, s, []byte("three"))
	if err := s.SyncStaged(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if got, err := readBlob(t, s, b.Digest, b.Size, 0, -1); err != nil || string(got) != "three" {
		t.Fatalf("read %q, %v", got, err)
	}
}

func TestStageSyncFailureIsReported(t *testing.T) {
	s := openStore(t, "")
	broken := errors.New("injected EIO")
	s.syncfs = func() error { return broken }
	data := []byte("will not sync")
	b, _ := mustStage(t, s, data)
	if err := s.SyncStaged(testContext(t)); !errors.Is(err, broken) {
		t.Fatalf("SyncStaged = %v, want the sync's error", err)
	}
	// Still served from its temp file, and never put in blobs/.
	if got, err := readBlob(t, s, b.Digest, b.Size, 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after failed sync: %q, %v", got, err)
	}
	if _, err := os.Lstat(blobPath(s.blobs, b.Digest)); !os.IsNotExist(err) {
		t.Fatalf("a blob that failed to sync is in place: %v", err)
	}
	if _, _, err := s.Stage(testContext(t), data, nil); !errors.Is(err, broken) {
		t.Fatalf("stage of the same content = %v, want the earlier failure", err)
	}
}

func TestRestoreWritesMissingBlobs(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	data := content(2, 5000)
	d := digestOf(data)

	// After a crash the staged file is gone: Restore writes it durably.
	if err := s.Restore(testContext(t), d, data); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if ok, _ := s.Has(d); !ok {
		t.Fatal("restored blob is not durable")
	}
	if err := s.Verify(testContext(t), d, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if len(s.pins) != 0 {
		t.Fatalf("restore left pins: %v", s.pins)
	}
	// Present already: nothing is written.
	before, _ := os.Stat(blobPath(s.blobs, d))
	if err := s.Restore(testContext(t), d, data); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(blobPath(s.blobs, d))
	if !os.SameFile(before, after) {
		t.Fatal("restore rewrote a blob that was there")
	}
	// A damaged file (wrong size) is replaced.
	damaged := content(3, 100)
	dd := digestOf(damaged)
	if err := os.MkdirAll(blobDir(s.blobs, dd), dirMode); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blobPath(s.blobs, dd), damaged[:10], 0o444); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(testContext(t), dd, damaged); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(testContext(t), dd, int64(len(damaged))); err != nil {
		t.Fatalf("damaged blob after restore: %v", err)
	}
	// Bytes that do not hash to the digest are refused.
	err := s.Restore(testContext(t), digestOf([]byte("x")), []byte("y"))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("restore of wrong bytes = %v, want ErrDigestMismatch", err)
	}
}

func TestCloseMakesStagedBlobsDurable(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	var blobs []Blob
	for i := range 20 {
		b, _ := mustStage(t, s, content(uint64(10+i), 3000))
		blobs = append(blobs, b)
	}
	if err := s.Close(testContext(t)); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	for _, b := range blobs {
		if err := s.Verify(testContext(t), b.Digest, b.Size); err != nil {
			t.Fatalf("after close and reopen: %v", err)
		}
	}
}

func TestCollectKeepsStagedBlobs(t *testing.T) {
	s := openStore(t, "")
	release := holdSyncs(s)
	defer release()
	b, _ := mustStage(t, s, []byte("staged and pinned"))
	nothing := func(context.Context, func(Digest)) error { return nil }
	if _, err := s.Collect(testContext(t), nothing); err != nil {
		t.Fatal(err)
	}
	release()
	if err := s.SyncStaged(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(b.Digest); !ok {
		t.Fatal("collect took a staged blob")
	}
	// Pinned by Stage until the caller's reference is journaled.
	if _, err := s.Collect(testContext(t), nothing); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(b.Digest); !ok {
		t.Fatal("collect took a pinned blob")
	}
	s.Unpin(b.Digest)
	if _, err := s.Collect(testContext(t), nothing); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(b.Digest); ok {
		t.Fatal("an unreferenced, unpinned blob survived collect")
	}
}

func TestOpenRemovesStagedFilesLeftByACrash(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	release := holdSyncs(s)
	b, _ := mustStage(t, s, []byte("staged when the process died"))
	staged := s.stagedPath(b.Digest)
	// A crash: the process is gone without syncing. (Close would sync.)
	s2 := New(dir, s.Logger)
	s.lock.Close() // releases the flock, as the kernel does for a dead process
	if err := s2.Open(testContext(t)); err != nil {
		t.Fatalf("open after the crash: %v", err)
	}
	defer s2.Close(context.Background())
	if _, err := os.Lstat(staged); !os.IsNotExist(err) {
		t.Fatalf("staged file left by the crash survived Open: %v", err)
	}
	if ok, _ := s2.Has(b.Digest); ok {
		t.Fatal("a blob that was only staged is reported durable after the crash")
	}
	// The journal's replay brings it back.
	if err := s2.Restore(testContext(t), b.Digest, []byte("staged when the process died")); err != nil {
		t.Fatal(err)
	}
	if err := s2.Verify(testContext(t), b.Digest, b.Size); err != nil {
		t.Fatal(err)
	}
	// Collect leaves the staging directories alone however old they are.
	old := time.Now().Add(-2 * DefaultTempMaxAge)
	if err := os.Chtimes(filepath.Join(dir, tmpDirName, stagingDirName), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Collect(testContext(t), func(context.Context, func(Digest)) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s2.Stage(testContext(t), []byte("after collect"), nil); err != nil {
		t.Fatalf("stage after collect: %v", err)
	}
	release()
}

func TestStageOnAFullDisk(t *testing.T) {
	s := openStore(t, "")
	s.fileWrite = func(f *os.File, p []byte) (int, error) {
		return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	_, _, err := s.Stage(testContext(t), content(12, 4096), nil)
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Stage on a full disk = %v, want ErrNoSpace", err)
	}
	noFilesLeft(t, s, "ENOSPC")
	if len(s.pins) != 0 || len(s.staged) != 0 || len(s.temps) != 0 {
		t.Fatalf("state left: pins %v, staged %v, temps %v", s.pins, s.staged, s.temps)
	}
	// The disk has room again: the slot was given back.
	s.fileWrite = (*os.File).Write
	if _, _, err := s.Stage(testContext(t), content(12, 4096), nil); err != nil {
		t.Fatal(err)
	}
}

func TestStagedBlobMeetsADurableCopy(t *testing.T) {
	s := openStore(t, "")
	release := holdSyncs(s)
	data := content(13, 3000)
	staged, _ := mustStage(t, s, data)
	durable := mustPut(t, s, data) // the same content, written durably meanwhile
	release()
	if err := s.SyncStaged(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if files := blobFiles(t, s); len(files) != 1 {
		t.Fatalf("blob files: %v, want one", files)
	}
	noStaged := tempFiles(t, s)
	if len(noStaged) != 0 {
		t.Fatalf("staged duplicate left: %v", noStaged)
	}
	if got := s.pins[staged.Digest]; got != 2 {
		t.Fatalf("pins = %d, want 2 (the Stage's and the Put's)", got)
	}
	s.Unpin(staged.Digest)
	s.Unpin(durable.Digest)
	if err := s.Verify(testContext(t), staged.Digest, staged.Size); err != nil {
		t.Fatal(err)
	}
}

func TestStageSecondSyncFailure(t *testing.T) {
	s := openStore(t, "")
	calls := 0
	broken := errors.New("injected EIO on the second syncfs")
	real := s.syncfs
	s.syncfs = func() error {
		if calls++; calls == 2 {
			return broken
		}
		return real()
	}
	b, _ := mustStage(t, s, []byte("renamed, not durable"))
	if err := s.SyncStaged(testContext(t)); !errors.Is(err, broken) {
		t.Fatalf("SyncStaged = %v, want the second syncfs's error", err)
	}
	if len(s.committing) != 0 {
		t.Fatalf("renames left in progress: %v", s.committing)
	}
	if got, err := readBlob(t, s, b.Digest, b.Size, 0, -1); err != nil || string(got) != "renamed, not durable" {
		t.Fatalf("read after a failed syncfs: %q, %v", got, err)
	}
}

// TestConcurrentStagesOfTheSameContent: callers that race to stage identical
// bytes share one staged file, and every slot a loser took is given back.
func TestConcurrentStagesOfTheSameContent(t *testing.T) {
	s := openStore(t, "")
	data := content(14, 2000)
	const callers = 8
	// Every caller writes its own file before any registers one, so that all
	// but one lose the race.
	var arrived sync.WaitGroup
	arrived.Add(callers)
	s.fileWrite = func(f *os.File, p []byte) (int, error) {
		arrived.Done()
		arrived.Wait()
		return f.Write(p)
	}
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.Stage(testContext(t), data, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := s.SyncStaged(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.stageSlots); n != 0 {
		t.Fatalf("%d stage slots still taken with nothing staged", n)
	}
	if got := s.pins[digestOf(data)]; got != callers {
		t.Fatalf("pins = %d, want %d", got, callers)
	}
	if files := blobFiles(t, s); len(files) != 1 || len(tempFiles(t, s)) != 0 {
		t.Fatalf("files: %v, temp %v", files, tempFiles(t, s))
	}
}
