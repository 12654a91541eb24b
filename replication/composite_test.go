package replication_test

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/replication"
)

// putParts stores each part as its own blob and journals an object made of
// them with their composite hash, as a completed multipart upload is.
func (e *env) putParts(bucket, key string, parts ...[]byte) replication.Job {
	e.t.Helper()
	j := e.put(bucket, key, bytes.Join(parts, nil))
	var digests [][sha256.Size]byte
	var pieces []replication.Piece
	var sizes []int64
	for _, p := range parts {
		b, err := e.store.Put(ctxT(e.t), bytes.NewReader(p))
		if err != nil {
			e.t.Fatal(err)
		}
		digests = append(digests, b.Digest)
		pieces = append(pieces, replication.Piece{Blob: b.Digest.String(), Size: b.Size})
		sizes = append(sizes, b.Size)
	}
	e.journal.update(j.ID, func(j *replication.Job) {
		j.Pieces, j.Meta.PartSizes = pieces, sizes
		j.Meta.SHA256 = objecthash.Composite(digests).String()
	})
	j, _ = e.journal.Job(j.ID)
	return j
}

// TestReplicateComposite: objects of parts with a composite hash, one below
// the multipart threshold (one PutObject, checked against the composite as
// it is read) and one above, arrive byte-identical with the composite, their
// part sizes and layout format 2; an object whose local parts do not make its
// composite (two parts swapped in the journal) is quarantined, not uploaded.
func TestReplicateComposite(t *testing.T) {
	e := newEnv(t)
	small := [][]byte{randomBytes(3000, 1), randomBytes(3000, 2), randomBytes(77, 3)}
	large := [][]byte{randomBytes(6<<20, 4), randomBytes(6<<20, 5), randomBytes(1234, 6)}
	js := e.putParts("docs", "small.bin", small...)
	jl := e.putParts("docs", "large.bin", large...)
	bad := e.putParts("docs", "swapped.bin", small...)
	e.journal.update(bad.ID, func(j *replication.Job) { j.Pieces[0], j.Pieces[1] = j.Pieces[1], j.Pieces[0] })
	e.start(testConfig(), e.newRemote(e.gw.Endpoint), nil)
	waitFor(t, "two replicated, one quarantined", func() bool {
		j, err := e.journal.Job(bad.ID)
		return e.journal.pending() == 1 && err == nil && j.Quarantined
	})
	for _, c := range []struct {
		j     replication.Job
		parts [][]byte
	}{{js, small}, {jl, large}} {
		got, out := e.remoteSHA256(c.j.Bucket, c.j.Key)
		if want := sha256Hex(bytes.Join(c.parts, nil)); got != want {
			t.Errorf("%s: remote bytes hash to %s, want %s", c.j.Key, got, want)
		}
		m := out.Metadata
		if m["ipas-sha256"] != c.j.Meta.SHA256 || m["ipas-format"] != "2" || m["ipas-parts"] != replication.EncodePartSizes(c.j.Meta.PartSizes) {
			t.Errorf("%s: remote metadata %v, want ipas-sha256 %s, format 2, its parts", c.j.Key, m, c.j.Meta.SHA256)
		}
	}
	if j, _ := e.journal.Job(bad.ID); j.LastError == "" {
		t.Errorf("the swapped object's job says nothing: %+v", j)
	}
}
