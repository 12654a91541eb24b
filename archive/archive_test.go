package archive

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// testArchive is an archive over a real store and journal in a temp dir.
type testArchive struct {
	*Archive
	store *store.Store
	node  *queue.Node
	dir   string
}

func openArchive(t *testing.T, dir string) *testArchive {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	st := store.New(filepath.Join(dir, "store"), log)
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	qc := queue.DefaultConfig(filepath.Join(dir, "journal"))
	qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	qc.Inline = st
	node := queue.New(qc, log)
	if err := node.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := node.CreateBucket(ctx, "b", time.Now()); err != nil && !errors.Is(err, queue.ErrBucketExists) {
		t.Fatal(err)
	}
	return &testArchive{Archive: New(st, node), store: st, node: node, dir: dir}
}

func (a *testArchive) close(t *testing.T) {
	if err := a.node.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if err := a.store.Close(context.Background()); err != nil {
		t.Error(err)
	}
}

// readObject reads key back through a freshly looked-up index entry.
func (a *testArchive) readObject(t *testing.T, key string, off, length int64) []byte {
	t.Helper()
	o, err := a.node.Object("b", key)
	if err != nil {
		t.Fatal(err)
	}
	rc := a.Open(context.Background(), o, off, length)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPutCommitOpen: an object stored streamed, staged, or with a signed
// SHA-256 is readable by range after its commit, and still after a restart
// (the staged one from its journal entry's bytes).
func TestPutCommitOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openArchive(t, dir)
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	small := []byte("a small object, journaled with its bytes")
	signed := []byte("signed by the client")

	blob, err := a.Put(ctx, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	o := NewObject("b", "big", blob, time.Now())
	if sum := md5.Sum(big); o.ETag != hex.EncodeToString(sum[:]) || o.Size != int64(len(big)) {
		t.Fatalf("object %+v: ETag is not the MD5, or the size is wrong", o)
	}
	if err := a.Commit(ctx, o, nil); err != nil {
		t.Fatal(err)
	}
	a.Unpin(blob.Digest)

	if !a.Inlines() {
		t.Fatal("a journal opened with Config.Inline does not inline")
	}
	sblob, inline, err := a.Stage(ctx, small)
	if err != nil || !bytes.Equal(inline, small) {
		t.Fatalf("stage: inline %q, %v", inline, err)
	}
	if err := a.Commit(ctx, NewObject("b", "small", sblob, time.Now()), inline); err != nil {
		t.Fatal(err)
	}
	a.Unpin(sblob.Digest)

	want := sha256.Sum256(signed)
	vblob, err := a.PutVerified(ctx, bytes.NewReader(signed), want)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, NewObject("b", "signed", vblob, time.Now()), nil); err != nil {
		t.Fatal(err)
	}
	a.Unpin(vblob.Digest)
	if _, err := a.PutVerified(ctx, bytes.NewReader([]byte("something else")), want); !errors.As(err, new(*store.DigestMismatchError)) {
		t.Fatalf("PutVerified of content that does not match: %v, want a DigestMismatchError", err)
	}
	if _, _, err := a.StageVerified(ctx, []byte("something else"), want); !errors.As(err, new(*store.DigestMismatchError)) {
		t.Fatalf("StageVerified of content that does not match: %v, want a DigestMismatchError", err)
	}

	check := func(a *testArchive) {
		if got := a.readObject(t, "big", 999_980, 20); string(got) != "01234567890123456789" {
			t.Fatalf("range of big: %q", got)
		}
		if got := a.readObject(t, "small", 2, 5); string(got) != "small" {
			t.Fatalf("range of small: %q", got)
		}
		if got := a.readObject(t, "signed", 0, int64(len(signed))); !bytes.Equal(got, signed) {
			t.Fatalf("signed: %q", got)
		}
	}
	check(a)
	a.close(t)
	a = openArchive(t, dir)
	defer a.close(t)
	check(a)
}

// TestPinObject: a pinned object's blobs survive a collection that finds no
// reference to them; a blob already gone is ErrNotFound.
func TestPinObject(t *testing.T) {
	ctx := context.Background()
	a := openArchive(t, t.TempDir())
	defer a.close(t)
	blob, err := a.Put(ctx, bytes.NewReader([]byte("pinned")))
	if err != nil {
		t.Fatal(err)
	}
	o := NewObject("b", "k", blob, time.Now())
	release, err := a.PinObject(o)
	if err != nil {
		t.Fatal(err)
	}
	a.Unpin(blob.Digest) // only PinObject's pin is left
	none := func(context.Context, func(store.Digest)) error { return nil }
	if _, err := a.store.Collect(ctx, none); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.store.Has(blob.Digest); !ok || err != nil {
		t.Fatalf("pinned blob after a collection: present %v, %v", ok, err)
	}
	release()
	if _, err := a.store.Collect(ctx, none); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PinObject(o); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PinObject of a collected blob: %v, want ErrNotFound", err)
	}
}
