package restore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/remoteindex"
)

// putMultipart stores data on rem as a multipart object of parts of
// partSize bytes, with its multipart ETag.
func putMultipart(rem *fakeRemote, name string, data []byte, partSize int64, now time.Time) {
	rem.put(name, data, now, now)
	o := rem.objects[name]
	var md5s [][md5.Size]byte
	o.meta.PartSizes = nil
	for off := int64(0); off < int64(len(data)); off += partSize {
		end := min(off+partSize, int64(len(data)))
		o.meta.PartSizes = append(o.meta.PartSizes, end-off)
		md5s = append(md5s, md5.Sum(data[off:end]))
	}
	o.meta.ETag = multipartETag(md5s)
}

// TestRestore_ResumeAfterAdoption: a kill after some parts of an object were
// renamed into the store, before the journal, leaves part files missing from
// the partial object although their ranges are recorded: the next run fetches
// those parts again, and only those, and restores the object exactly.
func TestRestore_ResumeAfterAdoption(t *testing.T) {
	rem := newFakeRemote()
	now := time.Now().UTC()
	data := make([]byte, 5<<20+123)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	putMultipart(rem, "docs/film", data, 2<<20, now)
	a := openTestArchive(t)
	rec := &recorder{}
	r := a.restorer(rem, rec, func(o *Options) { o.NoSnapshot = true })

	// What the killed run left: every range done, part 1's file adopted.
	meta := rem.objects["docs/film"].meta
	meta.Remote.ETag = rem.objects["docs/film"].etag
	p, err := openPartial(r.opts.StateDir, &meta, r.opts.RangeSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, sp := range p.ranges {
		off := p.offset(sp)
		f, err := os.OpenFile(p.partFile(sp.part), os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt(data[off:off+sp.length], sp.off)
		f.Close()
		if err := p.markDone(i); err != nil {
			t.Fatal(err)
		}
	}
	p.close()
	os.Remove(p.partFile(0))

	res, err := r.Run(context.Background())
	if err != nil || res.Restored != 1 {
		t.Fatalf("restore: %v %+v, want 1 restored", err, res)
	}
	if got := rec.out["docs/film"].Fetched; got != 2<<20 {
		t.Errorf("fetched %d bytes, want only the adopted part's %d", got, 2<<20)
	}
	checkRestored(t, a, "docs/film", data, meta.ETag, 3)
}

// TestRestore_CorruptMultipartStoresNothing: a multipart object whose bytes
// do not match its SHA-256 leaves no blob in the store, not even of its good
// parts, and nothing in the index.
func TestRestore_CorruptMultipartStoresNothing(t *testing.T) {
	rem := newFakeRemote()
	now := time.Now().UTC()
	data := make([]byte, 5<<20)
	putMultipart(rem, "docs/bad", data, 2<<20, now)
	rem.objects["docs/bad"].data[5<<20-1] = 1
	a := openTestArchive(t)
	rec := &recorder{}
	if res, err := a.restorer(rem, rec, func(o *Options) { o.NoSnapshot = true }).Run(context.Background()); err == nil || res.Failed != 1 {
		t.Fatalf("restore: %v %+v, want 1 failed", err, res)
	}
	var blobs []string
	filepath.WalkDir(filepath.Join(a.dir, "store", "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			blobs = append(blobs, path)
		}
		return nil
	})
	if len(blobs) != 0 {
		t.Errorf("blobs of a corrupt object were stored: %v", blobs)
	}
	if _, err := a.node.Object("docs", "bad"); err == nil {
		t.Error("the corrupt object is in the index")
	}
}

// TestRestore_LargeWithoutETagGetsItsMD5: a large object whose metadata
// (format 0) has no ETag is fetched in ranges and restored with the ETag its
// bytes give, their MD5; one whose metadata has an ETag keeps it.
func TestRestore_LargeWithoutETagGetsItsMD5(t *testing.T) {
	rem := newFakeRemote()
	now := time.Now().UTC()
	data := make([]byte, 3<<20+5)
	for i := range data {
		data[i] = byte(i * 3 / 7)
	}
	rem.put("docs/old", data, now, now)
	rem.objects["docs/old"].meta.ETag = ""
	rem.put("docs/new", data[:3<<20], now, now)
	a := openTestArchive(t)
	res, err := a.restorer(rem, &recorder{}, func(o *Options) { o.NoSnapshot = true }).Run(context.Background())
	if err != nil || res.Restored != 2 {
		t.Fatalf("restore: %v %+v, want 2 restored", err, res)
	}
	for key, want := range map[string][md5.Size]byte{"old": md5.Sum(data), "new": md5.Sum(data[:3<<20])} {
		o, err := a.node.Object("docs", key)
		if err != nil || o.ETag != fmt.Sprintf("%x", want) {
			t.Errorf("docs/%s: ETag %q %v, want %x", key, o.ETag, err, want)
		}
	}
}

// TestRestore_PartCheckedAgainstIndex: with the remote index giving each
// part's SHA-256, a multipart object is restored exactly, and one with a part
// changed on the remote is refused by that part's digest, storing nothing:
// whether its parts are hashed as they arrive (at least as many parts as
// ranges at once) or read back once every range is in.
func TestRestore_PartCheckedAgainstIndex(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ranges  int
		changed bool
	}{
		{"in order, intact", 2, false}, {"in order, part changed", 2, true},
		{"read back, intact", 4, false}, {"read back, part changed", 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rem := newFakeRemote()
			now := time.Now().UTC()
			data := make([]byte, 5<<20+17)
			for i := range data {
				data[i] = byte(i * 5 / 3)
			}
			snap := putIndexed(t, rem, "docs/film", data, 2<<20, now)
			if tc.changed {
				rem.objects["docs/film"].data[3<<20] ^= 1 // in part 2; the listing is unchanged
			}
			a := openTestArchive(t)
			rec := &recorder{}
			res, err := a.restorer(rem, rec, func(o *Options) { o.Ranges = tc.ranges }).Run(context.Background())
			if !tc.changed {
				if err != nil || res.Restored != 1 {
					t.Fatalf("restore: %v %+v, want 1 restored", err, res)
				}
				checkRestored(t, a, "docs/film", data, snap.ETag, 3)
				return
			}
			if err == nil || res.Failed != 1 {
				t.Fatalf("restore: %v %+v, want 1 failed", err, res)
			}
			if r := rec.out["docs/film"].Reason; !strings.Contains(r, "part 2") || !strings.Contains(r, "remote index") {
				t.Errorf("reason %q, want part 2 refused by the remote index", r)
			}
			if n := countBlobs(t, a); n != 0 {
				t.Errorf("%d blobs of a corrupt object were stored", n)
			}
			if _, err := a.node.Object("docs", "film"); err == nil {
				t.Error("the corrupt object is in the index")
			}
		})
	}
}

// putIndexed stores data on rem as a multipart object of parts of partSize
// bytes and a remote index snapshot that gives each part's SHA-256, as the
// daemon's snapshotter writes it; it returns the snapshot's entry.
func putIndexed(t *testing.T, rem *fakeRemote, name string, data []byte, partSize int64, now time.Time) remoteindex.Object {
	t.Helper()
	putMultipart(rem, name, data, partSize, now)
	fo := rem.objects[name]
	snap := fo.meta
	snap.Remote = remoteindex.Replica{ETag: fo.etag, Size: snap.Size, At: now}
	for off := int64(0); off < int64(len(data)); off += partSize {
		sum := sha256.Sum256(data[off:min(off+partSize, int64(len(data)))])
		snap.PartSHA256 = append(snap.PartSHA256, hex.EncodeToString(sum[:]))
	}
	rem.putSnapshot(t, testID, now.Add(time.Second), snap)
	return snap
}

// checkRestored checks that bucket/key is in the index with parts parts and
// etag, and reads back as data.
func checkRestored(t *testing.T, a *testArchive, name string, data []byte, etag string, parts int) {
	t.Helper()
	bucket, key, _ := strings.Cut(name, "/")
	o, err := a.node.Object(bucket, key)
	if err != nil || len(o.Parts) != parts || o.ETag != etag {
		t.Fatalf("the restored object: %+v %v, want %d parts with ETag %s", o, err, parts, etag)
	}
	got, err := io.ReadAll(archive.New(a.store, a.node).Open(context.Background(), o, 0, o.Size))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read the restored object: %v (equal %v)", err, bytes.Equal(got, data))
	}
}

func countBlobs(t *testing.T, a *testArchive) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(a.dir, "store", "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
