package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// fixture is a cache over a real store, journal and archive in a temp dir,
// whose "file system" is the store's blob bytes (store.Usage) out of
// total: what the cache sees grows and shrinks with the blobs for real.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	store   *store.Store
	node    *queue.Node
	objects *archive.Archive
	access  *Access
	cache   *Cache
	total   int64
	remote  time.Time // unreachable since, when set
}

func newFixture(t *testing.T, cfg Config, total int64) *fixture {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
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
	access, err := OpenAccess(filepath.Join(dir, "access.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, store: st, node: node, objects: archive.New(st, node), access: access, total: total}
	t.Cleanup(func() {
		access.Close()
		node.Close(context.Background())
		st.Close(context.Background())
	})
	for _, b := range []string{"b", "keep"} {
		if err := node.CreateBucket(ctx, b, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	mark := func(ctx context.Context, mark func(store.Digest)) error {
		return node.MarkReferenced(ctx, func(blob string) {
			if d, err := store.ParseDigest(blob); err == nil {
				mark(d)
			}
		})
	}
	f.cache = New(cfg, Deps{
		Index:   node,
		Collect: func(ctx context.Context) error { _, err := st.Collect(ctx, mark); return err },
		Disk: func() (Usage, error) {
			_, used, err := st.Usage(context.Background())
			return Usage{Total: f.total, Used: used}, err
		},
		Access:  access,
		Remote:  func() (time.Time, string) { return f.remote, "dial tcp: connection refused" },
		Fetcher: f.objects,
	}, log)
	f.objects.SetCapacity(f.cache)
	return f
}

// put stores bucket/key with size distinct bytes through the archive.
func (f *fixture) put(bucket, key string, size int) (queue.Object, error) {
	body := bytes.Repeat([]byte(key+"."), size/(len(key)+1)+1)[:size]
	b, err := f.objects.Put(f.ctx, bytes.NewReader(body))
	if err != nil {
		return queue.Object{}, err
	}
	defer f.objects.Unpin(b.Digest)
	o := archive.NewObject(bucket, key, b, time.Now())
	return o, f.objects.Commit(f.ctx, o, nil)
}

func (f *fixture) mustPut(bucket, key string, size int) queue.Object {
	f.t.Helper()
	o, err := f.put(bucket, key, size)
	if err != nil {
		f.t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return o
}

// replicate records o as confirmed on the remote, as the replicator does.
func (f *fixture) replicate(o queue.Object) {
	f.t.Helper()
	if err := f.node.JobReplicated(f.ctx, o.VersionID, queue.Replica{ETag: o.ETag, Size: o.Size}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) read(key string) {
	f.t.Helper()
	o, err := f.node.Object("b", key)
	if err != nil {
		f.t.Fatal(err)
	}
	rc := f.objects.Open(f.ctx, o, 0, o.Size)
	io.Copy(io.Discard, rc)
	rc.Close()
}

func (f *fixture) remoteOnly(bucket, key string) bool {
	f.t.Helper()
	o, err := f.node.Object(bucket, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return o.RemoteOnly
}

func (f *fixture) used() int64 {
	_, used, err := f.store.Usage(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return used
}

// TestEvictLeastRecentlyReadOffsite: above the high mark, the pass evicts
// offsite objects, least recently read first, down to the low mark; an
// object not offsite yet and one under store.keep_local stay local whatever
// their age; the evicted objects' blobs are gone from the disk, their index
// entries remain (remote-only).
func TestEvictLeastRecentlyReadOffsite(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Capacity = Capacity{Bytes: 10_000}
	cfg.KeepLocal = []string{"keep/"}
	f := newFixture(t, cfg, 1<<30)
	// Oldest first: the pinned and unreplicated objects are the oldest.
	f.replicate(f.mustPut("keep", "k0", 1000))
	f.mustPut("b", "waiting", 1000)
	for i := range 7 {
		f.replicate(f.mustPut("b", fmt.Sprint("o", i), 1000))
	}
	// o0 and o1 are read now: the least recently read are o2, o3, ...
	f.read("o0")
	f.read("o1")
	if used := f.used(); used != 9000 {
		t.Fatalf("used %d, want 9000", used)
	}
	if _, err := f.cache.RunPass(f.ctx); err != nil {
		t.Fatal(err)
	}
	// 9,000 > 9,000 (high) is false: nothing yet.
	if f.remoteOnly("b", "o2") {
		t.Fatal("evicted below the high mark")
	}
	f.replicate(f.mustPut("b", "o7", 1000)) // 10,000 bytes: above the high mark
	if _, err := f.cache.RunPass(f.ctx); err != nil {
		t.Fatal(err)
	}
	// Down to the low mark (8,000): two objects go, the two least recently read.
	want := map[string]bool{"o2": true, "o3": true}
	for _, key := range []string{"waiting", "o0", "o1", "o2", "o3", "o4", "o5", "o6", "o7"} {
		if got := f.remoteOnly("b", key); got != want[key] {
			t.Errorf("%s remote-only %v, want %v", key, got, want[key])
		}
	}
	if f.remoteOnly("keep", "k0") {
		t.Error("an object under store.keep_local was evicted")
	}
	if used := f.used(); used != 8000 {
		t.Errorf("used %d after the pass, want the low mark 8000", used)
	}
	st := f.cache.Stats()
	if st.EvictedObjects != 2 || st.EvictedBytes != 2000 || st.NotOffsite != 1000 || st.Pinned != 1000 ||
		st.RemoteOnly != 2000 || st.Hits != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestAdmitRefusesWhenNothingIsOffsite: with the capacity full of data
// whose upload is not confirmed, a write is refused before any byte is
// stored, with the reason (the remote unreachable since when, the bytes
// waiting) and the fix; nothing is evicted. Once the uploads are confirmed
// the next pass evicts and writes are accepted again by themselves.
func TestAdmitRefusesWhenNothingIsOffsite(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Capacity = Capacity{Bytes: 5000}
	cfg.AdmitWait = 200 * time.Millisecond
	f := newFixture(t, cfg, 1<<30)
	f.remote = time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	var waiting []queue.Object
	for i := range 5 {
		waiting = append(waiting, f.mustPut("b", fmt.Sprint("w", i), 1000))
	}
	if _, err := f.cache.RunPass(f.ctx); err != nil {
		t.Fatal(err)
	}
	_, err := f.put("b", "refused", 1000)
	var full *FullError
	if !errors.As(err, &full) || !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("put into a full capacity: %v, want a FullError", err)
	}
	msg := err.Error()
	for _, want := range []string{"unreachable since 2026-12-04T20:00:00Z", "connection refused", "4.9 KiB are waiting", "Fix:", "store.capacity"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not say %q", msg, want)
		}
	}
	if code, status, _ := full.S3Error(); code != "InsufficientStorage" || status != 507 {
		t.Errorf("S3 error %s %d", code, status)
	}
	if _, err := f.node.Object("b", "refused"); !errors.Is(err, queue.ErrNoSuchKey) {
		t.Errorf("the refused object exists: %v", err)
	}
	if used := f.used(); used != 5000 {
		t.Errorf("used %d: the refused write stored bytes", used)
	}
	for _, o := range waiting {
		if f.remoteOnly("b", o.Key) {
			t.Errorf("%s was evicted before it was offsite", o.Key)
		}
	}
	if st := f.cache.Stats(); st.Refusing == "" || st.RefusedWrites != 1 {
		t.Errorf("stats do not say writes are refused: %+v", st)
	}

	// The remote comes back: the uploads are confirmed.
	f.remote = time.Time{}
	for _, o := range waiting {
		f.replicate(o)
	}
	if _, err := f.cache.RunPass(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.put("b", "accepted", 1000); err != nil {
		t.Fatalf("put after the uploads: %v", err)
	}
	if f.used() > 5000 {
		t.Errorf("used %d, over the capacity", f.used())
	}
}

// TestEvictOnRequest: Evict of a prefix evicts what is offsite under it,
// and says what it left and why.
func TestEvictOnRequest(t *testing.T) {
	cfg := DefaultConfig()
	cfg.KeepLocal = []string{"b/keep/"}
	f := newFixture(t, cfg, 1<<30)
	f.replicate(f.mustPut("b", "dir/a", 100))
	f.replicate(f.mustPut("b", "dir/b", 100))
	f.mustPut("b", "dir/c", 100)
	f.replicate(f.mustPut("b", "keep/d", 100))
	f.replicate(f.mustPut("b", "other", 100))
	r, err := f.cache.Evict(f.ctx, "b", "dir/")
	if err != nil {
		t.Fatal(err)
	}
	if r != (EvictReport{Matched: 3, Evicted: 2, EvictedBytes: 200, NotOffsite: 1}) {
		t.Errorf("report %+v", r)
	}
	r, err = f.cache.Evict(f.ctx, "b", "")
	if err != nil {
		t.Fatal(err)
	}
	if r != (EvictReport{Matched: 5, Evicted: 1, EvictedBytes: 100, AlreadyRemote: 2, NotOffsite: 1, Pinned: 1}) {
		t.Errorf("report %+v", r)
	}
	if used := f.used(); used != 200 {
		t.Errorf("used %d, want the 200 bytes left local", used)
	}
}
