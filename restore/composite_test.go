package restore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/remoteindex"
)

// putComposite stores data on rem as putMultipart does, with the composite
// hash of its parts as its hash (layout format 2).
func putComposite(rem *fakeRemote, name string, data []byte, partSize int64, now time.Time) {
	putMultipart(rem, name, data, partSize, now)
	o := rem.objects[name]
	var digests [][sha256.Size]byte
	off := int64(0)
	for _, s := range o.meta.PartSizes {
		digests = append(digests, sha256.Sum256(data[off:off+s]))
		off += s
	}
	o.meta.SHA256 = objecthash.Composite(digests).String()
}

// patterned returns n bytes that differ from part to part.
func patterned(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	return data
}

// TestRestore_Composite: a multipart object with a composite hash restores
// byte-identical, in ranges and part by part; its bytes changed on the remote
// fail it, as do metadata whose part list does not match the hash's part
// count; next to it an object of the old layout (a multipart object with a
// full SHA-256) restores as before.
func TestRestore_Composite(t *testing.T) {
	rem := newFakeRemote()
	now := time.Now().UTC()
	data := patterned(5<<20 + 123)
	putComposite(rem, "docs/film", data, 2<<20, now)
	putMultipart(rem, "docs/old", data, 2<<20, now) // full SHA-256
	putComposite(rem, "docs/bad", bytes.Clone(data), 2<<20, now)
	rem.objects["docs/bad"].data[3<<20] ^= 1
	putComposite(rem, "docs/noparts", data, 2<<20, now)
	rem.objects["docs/noparts"].meta.PartSizes = []int64{int64(len(data))}

	for _, ranges := range []int{1, 8} {
		a := openTestArchive(t)
		rec := &recorder{}
		res, err := a.restorer(rem, rec, func(o *Options) { o.NoSnapshot, o.Ranges = true, ranges }).Run(context.Background())
		if err == nil || res.Restored != 2 || res.Failed != 2 {
			t.Fatalf("ranges %d: restore: %v %+v, want 2 restored, 2 failed", ranges, err, res)
		}
		checkRestored(t, a, "docs/film", data, rem.objects["docs/film"].meta.ETag, 3)
		checkRestored(t, a, "docs/old", data, rem.objects["docs/old"].meta.ETag, 3)
		if o, _ := a.node.Object("docs", "film"); o.SHA256 != rem.objects["docs/film"].meta.SHA256 {
			t.Errorf("restored hash %s, want the remote's %s", o.SHA256, rem.objects["docs/film"].meta.SHA256)
		}
		if r := rec.out["docs/bad"].Reason; !strings.Contains(r, "hash to SHA-256") || !strings.Contains(r, rem.objects["docs/bad"].meta.SHA256) {
			t.Errorf("damaged composite object: %q", r)
		}
		if r := rec.out["docs/noparts"].Reason; !strings.Contains(r, "composite SHA-256 of 3 parts and 1 part sizes") {
			t.Errorf("composite object without its part list: %q", r)
		}
	}
}

// TestRestore_CompositeWithIndex: with the remote index giving each part's
// SHA-256, a composite object is fetched part by part and restored; an index
// whose part SHA-256s do not make the object's composite hash is refused
// before anything is fetched.
func TestRestore_CompositeWithIndex(t *testing.T) {
	for _, tampered := range []bool{false, true} {
		rem := newFakeRemote()
		now := time.Now().UTC()
		data := patterned(5<<20 + 17)
		putComposite(rem, "docs/film", data, 2<<20, now)
		fo := rem.objects["docs/film"]
		snap := fo.meta
		snap.Remote = remoteindex.Replica{ETag: fo.etag, Size: snap.Size, At: now}
		for off := int64(0); off < int64(len(data)); off += 2 << 20 {
			sum := sha256.Sum256(data[off:min(off+2<<20, int64(len(data)))])
			snap.PartSHA256 = append(snap.PartSHA256, hex.EncodeToString(sum[:]))
		}
		if tampered {
			snap.PartSHA256[0], snap.PartSHA256[1] = snap.PartSHA256[1], snap.PartSHA256[0]
		}
		rem.putSnapshot(t, testID, now.Add(time.Second), snap)
		a := openTestArchive(t)
		rec := &recorder{}
		res, err := a.restorer(rem, rec, func(o *Options) { o.Ranges = 2 }).Run(context.Background())
		if !tampered {
			if err != nil || res.Restored != 1 || !res.UsedSnapshot {
				t.Fatalf("restore: %v %+v, want 1 restored with the index", err, res)
			}
			checkRestored(t, a, "docs/film", data, snap.ETag, 3)
			continue
		}
		if r := rec.out["docs/film"].Reason; err == nil || !strings.Contains(r, "do not make its composite SHA-256") || rec.out["docs/film"].Fetched != 0 {
			t.Fatalf("tampered index: %v, %+v", err, rec.out["docs/film"])
		}
	}
}
