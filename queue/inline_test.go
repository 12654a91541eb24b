package queue

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/store"
)

// openInline opens a real store in dir/store and a node in dir/journal that
// journals inline objects into it.
func openInline(t *testing.T, dir string) (*Node, *store.Store) {
	t.Helper()
	st := store.New(filepath.Join(dir, "store"), zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	if err := st.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	cfg := testConfig(filepath.Join(dir, "journal"))
	cfg.Inline = st
	return openNode(t, cfg), st
}

// putInline stages data and journals it as bucket/key, as the gateway does.
func putInline(t *testing.T, n *Node, st *store.Store, bucket, key string, data []byte) Object {
	t.Helper()
	b, staged, err := st.Stage(ctxT(t), data, nil)
	if err != nil || !staged {
		t.Fatalf("stage: staged %v, %v", staged, err)
	}
	defer st.Unpin(b.Digest)
	o := testObject(bucket, key, string(data))
	if err := n.PutObjectInline(ctxT(t), o, data); err != nil {
		t.Fatalf("put inline %s/%s: %v", bucket, key, err)
	}
	return o
}

func readAll(t *testing.T, st *store.Store, o Object) []byte {
	t.Helper()
	d, err := store.ParseDigest(o.Blob)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.OpenBlob(ctxT(t), d, o.Size, 0, -1)
	if err != nil {
		t.Fatalf("open blob of %s: %v", o.Key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInlineObjectRestoredAfterLosingItsBlob plays a power cut: the object is
// acknowledged (its entry is in the raft log), fsm.db never committed it, and
// its staged blob never reached the disk. The replay must bring the blob back
// from the bytes in the entry.
func TestInlineObjectRestoredAfterLosingItsBlob(t *testing.T) {
	dir := t.TempDir()
	n, st := openInline(t, dir)
	mustBucket(t, n, "b")
	holdPending(t, n)
	data := []byte("small object whose blob was still only staged")
	o := putInline(t, n, st, "b", "k", data)
	if got := readAll(t, st, o); !bytes.Equal(got, data) {
		t.Fatalf("read before the crash: %q", got)
	}

	n.fsm.dropPending() // the crash: fsm.db lacks the entry
	closeNode(t, n)
	if err := st.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	d, _ := store.ParseDigest(o.Blob)
	path := filepath.Join(dir, "store", "blobs", o.Blob[:2], o.Blob[2:4], o.Blob)
	if err := os.Remove(path); err != nil {
		t.Fatalf("remove the blob (the power cut's loss): %v", err)
	}

	n, st = openInline(t, dir)
	if ok, err := st.Has(d); !ok || err != nil {
		t.Fatalf("blob not restored by the replay: %v, %v", ok, err)
	}
	got, err := n.Object("b", "k")
	if err != nil || got.VersionID != o.VersionID {
		t.Fatalf("object after replay = %+v, %v", got, err)
	}
	if b := readAll(t, st, got); !bytes.Equal(b, data) {
		t.Fatalf("read after replay: %q", b)
	}
	if err := st.Verify(ctxT(t), d, int64(len(data))); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// TestInlineObjectsAcrossRestarts writes inline objects, some overwritten, and
// checks every current one after a clean restart and after a snapshot.
func TestInlineObjectsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	n, st := openInline(t, dir)
	mustBucket(t, n, "b")
	want := map[string][]byte{}
	for i := range 40 {
		key := string(rune('a' + i%26))
		data := bytes.Repeat([]byte{byte(i)}, 100+i)
		putInline(t, n, st, "b", key, data)
		want[key] = data
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	closeNode(t, n)
	if err := st.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	n, st = openInline(t, dir)
	for key, data := range want {
		o, err := n.Object("b", key)
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, st, o); !bytes.Equal(got, data) {
			t.Fatalf("%s: read %d bytes, want %d", key, len(got), len(data))
		}
	}
}

func TestPutObjectInlineNeedsABlobStore(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	err := n.PutObjectInline(ctxT(t), testObject("b", "k", "x"), []byte("x"))
	if !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("PutObjectInline without Config.Inline = %v, want ErrInvalidCommand", err)
	}
}

func TestInlineDataMustMatchTheObject(t *testing.T) {
	n, _ := openInline(t, t.TempDir())
	mustBucket(t, n, "b")
	for name, data := range map[string][]byte{
		"shorter": []byte("ab"), "empty": {}, "too long": make([]byte, MaxInlineBytes+1),
	} {
		o := testObject("b", "k", "abc")
		if name == "too long" {
			o.Size = int64(len(data))
		}
		if err := n.PutObjectInline(ctxT(t), o, data); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("%s: PutObjectInline = %v, want ErrInvalidCommand", name, err)
		}
	}
	if _, err := n.Object("b", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("a refused put left an object: %v", err)
	}
}

// gatedBlobs is an InlineBlobs whose SyncInline waits for a gate, to show
// that fsm.db never commits an inline entry before its blob is durable.
type gatedBlobs struct {
	gate     chan struct{}
	mu       sync.Mutex
	restored map[string][]byte
}

func (g *gatedBlobs) RestoreInline(_ context.Context, blob string, data []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.restored[blob] = bytes.Clone(data)
	return nil
}

func (g *gatedBlobs) SyncInline(ctx context.Context) error {
	select {
	case <-g.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestCommitWaitsForInlineBlobs(t *testing.T) {
	g := &gatedBlobs{gate: make(chan struct{}), restored: map[string][]byte{}}
	cfg := testConfig(t.TempDir())
	cfg.Inline = g
	n := openNode(t, cfg)
	defer func() { // a failed test must not leave Close waiting on the gate
		select {
		case <-g.gate:
		default:
			close(g.gate)
		}
	}()
	mustBucket(t, n, "b")
	if err := n.fsm.commitPending(); err != nil { // nothing inline yet: no wait
		t.Fatal(err)
	}
	commits := n.fsm.commits.Load()
	o := testObject("b", "k", "data")
	if err := n.PutObjectInline(ctxT(t), o, []byte("data")); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	got := string(g.restored[o.Blob])
	g.mu.Unlock()
	if got != "data" {
		t.Fatalf("RestoreInline got %q for the applied entry", got)
	}
	// The entry is acknowledged and readable, but not committed while the
	// blob is not durable (the timer fires every 20 ms meanwhile).
	time.Sleep(100 * time.Millisecond)
	if _, err := n.Object("b", "k"); err != nil {
		t.Fatal(err)
	}
	if c := n.fsm.commits.Load(); c != commits {
		t.Fatalf("fsm.db committed %d times before the inline blob was durable", c-commits)
	}
	close(g.gate)
	waitFor(t, "the commit after the blob is durable", func() bool { return n.fsm.commits.Load() > commits })
}
