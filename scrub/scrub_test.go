package scrub

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/store"
)

// fakeIndex holds current objects and pending jobs.
type fakeIndex struct {
	objects []queue.Object // one bucket, "b", sorted by key
	jobs    []queue.Job
}

func (f *fakeIndex) Buckets() ([]queue.Bucket, error) { return []queue.Bucket{{Name: "b"}}, nil }

// ListVersions lists the current objects, one version per key.
func (f *fakeIndex) ListVersions(_, _, after, _ string, limit int) ([]queue.ObjectVersion, bool, error) {
	var out []queue.ObjectVersion
	for _, o := range f.objects {
		if o.Key > after && len(out) < limit {
			out = append(out, queue.ObjectVersion{Object: o, Latest: true})
		}
	}
	return out, false, nil
}

func (f *fakeIndex) Jobs(after uint64, limit int) ([]queue.Job, error) {
	var out []queue.Job
	for _, j := range f.jobs {
		if j.Seq > after && len(out) < limit {
			out = append(out, j)
		}
	}
	return out, nil
}

func (f *fakeIndex) Job(id string) (queue.Job, error) {
	for _, j := range f.jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return queue.Job{}, queue.ErrNoSuchJob
}

// fakeRemote serves object bytes by name, counting the bytes it sends.
type fakeRemote struct {
	objects map[string][]byte
	sent    int64
}

func (f *fakeRemote) GetObjectAt(_ context.Context, loc replication.Location, off, length int64) (io.ReadCloser, replication.RemoteObject, error) {
	b, ok := f.objects[loc.Name]
	if !ok || loc.VersionID != "" {
		return nil, replication.RemoteObject{}, fmt.Errorf("get %s: %w", loc.Name, replication.ErrNotFound)
	}
	f.sent += length
	return io.NopCloser(bytes.NewReader(b[off : off+length])), replication.RemoteObject{Size: int64(len(b))}, nil
}

type fixture struct {
	st     *store.Store
	dir    string
	index  *fakeIndex
	remote *fakeRemote
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	st := store.New(dir, zerolog.Nop())
	if err := st.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return &fixture{st: st, dir: dir, index: &fakeIndex{}, remote: &fakeRemote{objects: map[string][]byte{}}}
}

// put stores an object made of parts; offsite puts its bytes on the remote,
// otherwise its put job waits.
func (f *fixture) put(t *testing.T, key string, offsite bool, parts ...[]byte) queue.Object {
	o := queue.Object{Bucket: "b", Key: key, VersionID: "v-" + key}
	var all []byte
	for _, p := range parts {
		b, err := f.st.Put(context.Background(), bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		f.st.Unpin(b.Digest)
		o.Parts = append(o.Parts, queue.ObjectPart{Blob: b.Digest.String(), Size: b.Size})
		all = append(all, p...)
	}
	if len(parts) == 1 {
		o.Blob, o.Parts = o.Parts[0].Blob, nil
	}
	o.Size = int64(len(all))
	sum := md5.Sum(all)
	o.ETag = hex.EncodeToString(sum[:])
	f.index.objects = append(f.index.objects, o)
	if offsite {
		f.remote.objects["b/"+key] = all
	} else {
		f.index.jobs = append(f.index.jobs, queue.Job{ID: o.VersionID, Seq: uint64(len(f.index.jobs) + 1), Op: queue.JobPut,
			Bucket: "b", Key: key, VersionID: o.VersionID, Object: o})
	}
	return o
}

// damage flips one byte of a blob's file.
func (f *fixture) damage(t *testing.T, blob string) {
	path := filepath.Join(f.dir, "blobs", blob[:2], blob[2:4], blob)
	os.Chmod(path, 0o644)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verify(t *testing.T, blob string, size int64) error {
	d, _ := store.ParseDigest(blob)
	return f.st.Verify(context.Background(), d, size)
}

func TestScrub_RepairsFromTheRemote(t *testing.T) {
	f := newFixture(t)
	whole := f.put(t, "whole.txt", true, bytes.Repeat([]byte("whole object "), 300))
	multi := f.put(t, "multi.bin", true, bytes.Repeat([]byte("part one "), 500), bytes.Repeat([]byte("part two "), 700), []byte("three"))
	pending := f.put(t, "pending.txt", false, []byte("only here until it is uploaded"))
	changed := f.put(t, "changed.txt", true, []byte("the archive's bytes"))
	f.remote.objects["b/changed.txt"] = []byte("the remote's  bytes")
	fine := f.put(t, "fine.txt", true, []byte("nothing wrong"))
	for _, b := range []string{whole.Blob, multi.Parts[1].Blob, pending.Blob, changed.Blob} {
		f.damage(t, b)
	}
	res, err := New(f.st, f.index, f.remote, zerolog.Nop()).Run(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blobs != 7 || res.Corrupt != 4 || res.Repaired != 2 || res.NotOffsite != 1 || res.UnrepairableCount != 2 || res.ResumeAfter != "" {
		t.Fatalf("result %+v; want 7 blobs, 4 corrupt, 2 repaired, 1 not offsite, 2 unrepairable", res)
	}
	if f.remote.sent != whole.Size+multi.Parts[1].Size+changed.Size {
		t.Fatalf("fetched %d bytes from the remote, want only the damaged stretches (%d)", f.remote.sent, whole.Size+multi.Parts[1].Size+changed.Size)
	}
	for _, p := range []queue.ObjectPart{{Blob: whole.Blob, Size: whole.Size}, multi.Parts[1], {Blob: fine.Blob, Size: fine.Size}} {
		if err := f.verify(t, p.Blob, p.Size); err != nil {
			t.Fatalf("after the scrub: %v", err)
		}
	}
	for _, p := range []queue.Object{pending, changed} {
		if err := f.verify(t, p.Blob, p.Size); err == nil {
			t.Fatalf("%s was repaired with bytes that are not its own", p.Key)
		}
	}
	byObject := map[string]Problem{}
	for _, p := range res.Unrepairable {
		byObject[p.Object] = p
	}
	if p := byObject["b/pending.txt"]; p.Offsite || !strings.Contains(p.Reason, "not offsite") || !strings.Contains(p.Reason, "your own copy") {
		t.Fatalf("pending object's problem %+v", p)
	}
	if p := byObject["b/changed.txt"]; !p.Offsite || !strings.Contains(p.Reason, "other bytes") {
		t.Fatalf("changed object's problem %+v", p)
	}
}

// An interrupted pass says where to resume; a pass from there checks the
// rest only.
func TestScrub_Resumes(t *testing.T) {
	f := newFixture(t)
	for i := range 20 {
		f.put(t, fmt.Sprintf("k%02d", i), true, bytes.Repeat([]byte(fmt.Sprintf("object %d ", i)), 10_000)) // ~100 KB
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(f.st, f.index, f.remote, zerolog.Nop())
	s.Rate = 1 << 20 // the first ten blobs take the burst, then ten a second
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	res, err := s.Run(ctx, nil, nil)
	if err == nil || res.ResumeAfter == "" || res.Blobs == 0 || res.Blobs >= 20 {
		t.Fatalf("interrupted pass: %+v, %v; want a resume point after some blobs", res, err)
	}
	from, _ := store.ParseDigest(res.ResumeAfter)
	s.Rate = 0
	rest, err := s.Run(context.Background(), &from, nil)
	if err != nil || res.Blobs+rest.Blobs != 20 {
		t.Fatalf("resumed pass: %+v, %v; want the other %d blobs", rest, err, 20-res.Blobs)
	}
}
