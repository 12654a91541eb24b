package restore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/store"
)

// fakeRemote is an in-memory remote for the planning logic: the real S3
// path is tested against versitygw in cmd/gateway.
type fakeRemote struct {
	mu      sync.Mutex
	objects map[string]*fakeObject
	control map[string][]byte
	heads   []string
	// gets records the offset of every GET; breakGets GETs from now on
	// end with errBroken halfway through their body.
	gets      []int64
	breakGets int
}

var errBroken = errors.New("connection reset by the test")

// brokenBody ends with errBroken after its bytes.
type brokenBody struct{ r io.Reader }

func (b brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		err = errBroken
	}
	return n, err
}

type fakeObject struct {
	data         []byte
	etag         string
	lastModified time.Time
	meta         remoteindex.Object // as a HEAD decodes it
}

func newFakeRemote() *fakeRemote {
	return &fakeRemote{objects: map[string]*fakeObject{}, control: map[string][]byte{}}
}

// put stores an object as IPAS would upload it: its metadata carries the
// SHA-256, ETag and mtime.
func (f *fakeRemote) put(name string, data []byte, mtime, uploaded time.Time) remoteindex.Object {
	bucket, key, _ := strings.Cut(name, "/")
	sum := sha256.Sum256(data)
	m := md5.Sum(data)
	o := remoteindex.Object{Bucket: bucket, Key: key, Size: int64(len(data)), ETag: hex.EncodeToString(m[:]),
		SHA256: hex.EncodeToString(sum[:]), ModTime: mtime, ContentType: "text/plain",
		Metadata: map[string]string{"x-amz-meta-owner": "alice"}}
	f.mu.Lock()
	f.objects[name] = &fakeObject{data: data, etag: "remote-" + o.ETag, lastModified: uploaded, meta: o}
	f.mu.Unlock()
	o.Remote = remoteindex.Replica{ETag: "remote-" + o.ETag, Size: o.Size, At: uploaded}
	return o
}

func (f *fakeRemote) List(ctx context.Context, prefix string, fn func([]Listed) error) error {
	f.mu.Lock()
	var page []Listed
	for name, o := range f.objects {
		if strings.HasPrefix(name, prefix) {
			page = append(page, Listed{Name: name, Size: int64(len(o.data)), ETag: o.etag, LastModified: o.lastModified})
		}
	}
	f.mu.Unlock()
	sort.Slice(page, func(i, j int) bool { return page[i].Name < page[j].Name })
	return fn(page)
}

func (f *fakeRemote) Head(ctx context.Context, name string) (Listed, remoteindex.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heads = append(f.heads, name)
	o, ok := f.objects[name]
	if !ok {
		return Listed{}, remoteindex.Object{}, replication.ErrNotFound
	}
	return Listed{Name: name, Size: int64(len(o.data)), ETag: o.etag, LastModified: o.lastModified}, o.meta, nil
}

func (f *fakeRemote) Get(ctx context.Context, name, versionID string, off, length int64) (io.ReadCloser, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[name]
	if !ok {
		return nil, "", replication.ErrNotFound
	}
	f.gets = append(f.gets, off)
	if f.breakGets > 0 {
		f.breakGets--
		return io.NopCloser(brokenBody{bytes.NewReader(o.data[off : off+length/2])}), o.etag, nil
	}
	return io.NopCloser(bytes.NewReader(o.data[off : off+length])), o.etag, nil
}

func (f *fakeRemote) GetControlFile(ctx context.Context, name string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.control[name]
	if !ok {
		return nil, fmt.Errorf("control file %s: %w", name, replication.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// putSnapshot stores a snapshot of objs taken at taken, and its pointer.
func (f *fakeRemote) putSnapshot(t *testing.T, id remoteindex.Identity, taken time.Time, objs ...remoteindex.Object) {
	t.Helper()
	sort.Slice(objs, func(i, j int) bool { return objs[i].Name() < objs[j].Name() })
	var buf bytes.Buffer
	w, err := remoteindex.NewWriter(&buf, remoteindex.Header{Format: remoteindex.FormatVersion, Identity: id, TakenAt: taken})
	if err != nil {
		t.Fatal(err)
	}
	w.AddBucket(remoteindex.Bucket{Name: "docs", Created: taken, Policy: "archive"})
	for i := range objs {
		if err := w.AddObject(&objs[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	name := remoteindex.SnapshotName(taken)
	ptr, _ := json.Marshal(remoteindex.Pointer{Format: remoteindex.FormatVersion, Identity: id, Current: name, TakenAt: taken})
	f.mu.Lock()
	f.control[name], f.control[remoteindex.PointerName] = buf.Bytes(), ptr
	f.mu.Unlock()
}

type noLimit struct{}

func (noLimit) Reader(_ context.Context, r io.Reader) io.Reader { return r }

// recorder keeps every outcome.
type recorder struct {
	nopProgress
	mu  sync.Mutex
	out map[string]Outcome
}

func (r *recorder) Object(o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out == nil {
		r.out = map[string]Outcome{}
	}
	r.out[o.Name] = o
}

// testArchive is a real journal and store in a temp dir.
type testArchive struct {
	node  *queue.Node
	store *store.Store
	dir   string
}

func openTestArchive(t *testing.T) *testArchive {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := store.New(filepath.Join(dir, "store"), zerolog.Nop())
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	qc := queue.DefaultConfig(filepath.Join(dir, "journal"))
	qc.Inline = st // as the gateway's archive: small blobs are staged
	qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	n := queue.New(qc, zerolog.Nop())
	if err := n.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return &testArchive{node: n, store: st, dir: dir}
}

var testID = remoteindex.Identity{ArchiveID: "archive-test", Bucket: "offsite", Prefix: "pi1"}

func (a *testArchive) restorer(remote Remote, rec *recorder, mod func(*Options)) *Restorer {
	opts := DefaultOptions(filepath.Join(a.dir, "restore"))
	opts.Identity = testID
	opts.RangeSize = 1 << 20
	if mod != nil {
		mod(&opts)
	}
	return New(opts, remote, a.node, archive.New(a.store, a.node), noLimit{}, rec, zerolog.Nop())
}

// syncBuffer is a bytes.Buffer safe for the progress bar's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
