package restore

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding"
	"fmt"
	"hash"
	"io"
	"os"
	"sync/atomic"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/store"
)

// fetchParts fetches the parts of o, Options.Ranges parts at once, each
// part's ranges in order by one worker that hashes them as they arrive and
// checks the part against its SHA-256 in the remote index (partWant) once
// its last range is on disk. Ranges an earlier run fetched are read back
// and hashed in their turn. It returns the blob each part file is, checked:
// the part files are not read again.
//
// Why in order: SHA-256 cannot be combined from the hashes of a part's
// ranges, and a part's hash is what names its blob. Hashed while it streams
// in, each byte is hashed once, spread over the download instead of in a
// pass over every part file after it (which read each byte back from disk,
// on one core per object, after the last range).
func (r *Restorer) fetchParts(ctx context.Context, o *remoteindex.Object, p *partial, partWant []store.Digest, fetched *atomic.Int64) ([]store.Blob, error) {
	blobs := make([]store.Blob, len(p.parts))
	all := make([]int, len(p.parts))
	for i := range all {
		all[i] = i
	}
	err := inParallel(ctx, r.opts.Ranges, all, func(ctx context.Context, i int) error {
		b, err := r.fetchPart(ctx, o, p, i, fetched)
		if err == nil {
			err = checkPart(i, b, partWant[i])
		}
		blobs[i] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	return blobs, nil
}

// fetchPart fetches the missing ranges of part i in order, hashing each
// range's bytes as they are written, and returns the blob the part file is.
func (r *Restorer) fetchPart(ctx context.Context, o *remoteindex.Object, p *partial, i int, fetched *atomic.Int64) (store.Blob, error) {
	h := newPartHash(o.ETag == "")
	for k := p.first[i]; k < p.first[i+1]; k++ {
		var err error
		if p.isDone(k) {
			err = p.hashRange(k, h)
		} else {
			err = r.fetchRange(ctx, o, p, k, fetched, h)
		}
		if err != nil {
			return store.Blob{}, err
		}
	}
	return h.blob(p.parts[i]), nil
}

// hashRange hashes range k, which an earlier run fetched, from its part file.
func (p *partial) hashRange(k int, h io.Writer) error {
	sp := p.ranges[k]
	f, err := os.Open(p.partFile(sp.part))
	if err != nil {
		return fmt.Errorf("restore: read partial %s: %w", p.dir, err)
	}
	defer f.Close()
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	n, err := io.CopyBuffer(h, io.NewSectionReader(f, sp.off, sp.length), *buf)
	if err != nil {
		return fmt.Errorf("restore: read partial %s: %w", p.dir, err)
	}
	if n != sp.length {
		return fmt.Errorf("restore: read partial %s: part %d has %d bytes at %d, want %d", p.dir, sp.part+1, n, sp.off, sp.length)
	}
	return nil
}

// partHash hashes one part's bytes in the order of the part: SHA-256 (the
// address of its blob), and MD5 (for the ETag) when the metadata has none.
type partHash struct {
	sha, md5 hash.Hash
	w        io.Writer
	// saved is the state before the range being fetched, to go back to
	// when it is fetched again after a failed attempt.
	saved [2][]byte
}

func newPartHash(withMD5 bool) *partHash {
	h := &partHash{sha: sha256.New()}
	h.w = h.sha
	if withMD5 {
		h.md5 = md5.New()
		h.w = io.MultiWriter(h.sha, h.md5)
	}
	return h
}

func (h *partHash) Write(b []byte) (int, error) { return h.w.Write(b) }

// mark remembers the state before a range; rewind goes back to it.
func (h *partHash) mark() error {
	for i, x := range []hash.Hash{h.sha, h.md5} {
		if x == nil {
			continue
		}
		b, err := x.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return fmt.Errorf("restore: save hash state: %w", err)
		}
		h.saved[i] = b
	}
	return nil
}

func (h *partHash) rewind() error {
	for i, x := range []hash.Hash{h.sha, h.md5} {
		if x == nil {
			continue
		}
		if err := x.(encoding.BinaryUnmarshaler).UnmarshalBinary(h.saved[i]); err != nil {
			return fmt.Errorf("restore: restore hash state: %w", err)
		}
	}
	return nil
}

// blob is the blob of the size bytes hashed.
func (h *partHash) blob(size int64) store.Blob {
	b := store.Blob{Size: size}
	h.sha.Sum(b.Digest[:0])
	if h.md5 != nil {
		h.md5.Sum(b.MD5[:0])
	}
	return b
}
