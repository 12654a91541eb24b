package cache

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
)

// putParts stores bucket/key as an object of one blob per part, as a
// multipart upload completes one, and returns it with its bytes.
func (f *fixture) putParts(bucket, key string, sizes ...int) (queue.Object, []byte) {
	f.t.Helper()
	o := queue.Object{Bucket: bucket, Key: key, VersionID: queue.NewVersionID(time.Now()), ModTime: time.Now(),
		ETag: fmt.Sprintf("%x-%d", sha256.Sum256([]byte(key)), len(sizes))[32:]}
	var content []byte
	for i, n := range sizes {
		part := bytes.Repeat([]byte(fmt.Sprintf("%s part %d.", key, i)), n)[:n]
		b, err := f.objects.Put(f.ctx, bytes.NewReader(part))
		if err != nil {
			f.t.Fatal(err)
		}
		defer f.objects.Unpin(b.Digest)
		o.Parts = append(o.Parts, queue.ObjectPart{Blob: b.Digest.String(), Size: b.Size})
		o.Size += b.Size
		content = append(content, part...)
	}
	sum := sha256.Sum256(content)
	o.SHA256 = fmt.Sprintf("%x", sum)
	if err := f.objects.Commit(f.ctx, o, nil); err != nil {
		f.t.Fatal(err)
	}
	return o, content
}

// TestEvictWhileStreaming: an eviction and the collection after it, run
// while a read of a local multipart object is half-way through its first
// part, take none of the parts from under the read: it goes on to the end,
// byte-identical. The parts stay on disk only as long as a read holds them:
// once it is closed, finished or abandoned half-way, the next collection
// frees them.
func TestEvictWhileStreaming(t *testing.T) {
	f := newFixture(t, DefaultConfig(), 1<<30)
	const part = 64 << 10
	o, content := f.putParts("b", "multi", part, part, part)
	f.replicate(o)
	if o, _ = f.node.Object("b", "multi"); !o.Replicated() {
		t.Fatal("the object is not recorded offsite")
	}

	rc := f.objects.Open(f.ctx, o, 0, o.Size)
	got := make([]byte, part/2)
	if _, err := io.ReadFull(rc, got); err != nil {
		t.Fatal(err)
	}
	r, err := f.cache.Evict(f.ctx, "b", "") // journals it remote-only, then collects
	if err != nil || r.Evicted != 1 {
		t.Fatalf("evict: %+v, %v", r, err)
	}
	if !f.remoteOnly("b", "multi") {
		t.Fatal("the object was not evicted")
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("the read was cut short after %d bytes by the eviction: %v", len(got)+len(rest), err)
	}
	if got = append(got, rest...); !bytes.Equal(got, content) {
		t.Fatalf("read %d bytes back, not the object's %d", len(got), len(content))
	}
	if used := f.used(); used != o.Size {
		t.Errorf("%d bytes of blobs while the read is open, want its %d", used, o.Size)
	}
	rc.Close()
	f.collect()
	if used := f.used(); used != 0 {
		t.Errorf("%d bytes of blobs left after the read was closed and a collection ran", used)
	}

	// Abandoned half-way (a client that disconnects): closing it releases
	// the parts all the same, those it never reached included.
	o2, _ := f.putParts("b", "abandoned", part, part)
	f.replicate(o2) // nothing but the read holds its blobs once it is deleted
	rc = f.objects.Open(f.ctx, o2, 0, o2.Size)
	if _, err := io.ReadFull(rc, make([]byte, part/2)); err != nil {
		t.Fatal(err)
	}
	if err := f.node.DeleteObject(f.ctx, "b", "abandoned", ""); err != nil {
		t.Fatal(err)
	}
	f.collect()
	if used := f.used(); used != o2.Size {
		t.Errorf("%d bytes of blobs while the read is open, want its %d", used, o2.Size)
	}
	rc.Close()
	rc.Close() // a second Close unpins nothing twice
	f.collect()
	if used := f.used(); used != 0 {
		t.Errorf("%d bytes of blobs left after the abandoned read was closed and a collection ran", used)
	}
}

// collect runs the store's collector as the daemon does.
func (f *fixture) collect() {
	f.t.Helper()
	if err := f.cache.deps.Collect(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// TestRangePinsOnlyItsParts: a ranged read pins the parts it covers only:
// the others are collected under it, and it still reads its bytes.
func TestRangePinsOnlyItsParts(t *testing.T) {
	f := newFixture(t, DefaultConfig(), 1<<30)
	o, content := f.putParts("b", "multi", 1000, 1000, 1000)
	f.replicate(o)
	rc := f.objects.Open(f.ctx, o, 1500, 100) // within the second part
	if err := f.node.DeleteObject(f.ctx, "b", "multi", ""); err != nil {
		t.Fatal(err)
	}
	f.collect()
	if used := f.used(); used != 1000 {
		t.Errorf("%d bytes of blobs kept for a read of one part, want 1000", used)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, content[1500:1600]) {
		t.Fatalf("range read back %q, %v", got, err)
	}
	f.collect()
	if used := f.used(); used != 0 {
		t.Errorf("%d bytes of blobs left once the read was closed", used)
	}
}
