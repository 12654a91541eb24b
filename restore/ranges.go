package restore

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/store"
)

// fetchRanges downloads a large or multipart object into its partial file in
// parallel ranges and stores it, verified on the way: one blob, or one blob
// per part so that GET ?partNumber= answers as before.
//
// A multipart object whose parts' SHA-256 the remote index gave, with at
// least as many parts as ranges run at once, is fetched part by part: each
// part's ranges in order by one worker, hashed and checked as they arrive
// (parts.go), so that no byte is read back. Any other object is fetched in
// ranges in any order, then hashed in one read of its part files.
func (r *Restorer) fetchRanges(ctx context.Context, o *remoteindex.Object, want store.Digest, fetched *atomic.Int64) (queue.Object, error) {
	p, err := openPartial(r.opts.StateDir, o, r.opts.RangeSize)
	if err != nil {
		return queue.Object{}, err
	}
	defer p.close()
	var blobs []store.Blob
	if partWant := partDigests(o); partWant != nil && len(p.parts) >= r.opts.Ranges {
		blobs, err = r.fetchParts(ctx, o, p, partWant, fetched)
	} else if err = r.fetchMissing(ctx, o, p, fetched); err == nil {
		blobs, err = verifyPartial(ctx, o, p, want)
	}
	var q queue.Object
	if err == nil {
		q, err = r.storeParts(ctx, o, p, blobs)
	}
	var oe *objectError
	if errors.As(err, &oe) {
		removePartial(r.opts.StateDir, partialName(o)) // bad bytes: the next run fetches them again
	}
	return q, err
}

// verifyPartial checks the complete partial object in one read of each part
// file, which hashes it with SHA-256 (its blob's address): each part against
// its SHA-256 in the remote index when the snapshot gave them, otherwise the
// whole object against its hash: the composite of the parts' SHA-256
// (package objecthash), or a full SHA-256 hashed in the same read. Once proven,
// the ETag in the metadata is the bytes', so MD5 is only computed for
// metadata of format 0, which has no ETag: there the bytes give it.
func verifyPartial(ctx context.Context, o *remoteindex.Object, p *partial, want store.Digest) ([]store.Blob, error) {
	partWant := partDigests(o)
	composite := objecthash.IsComposite(o.SHA256)
	blobs, err := hashParts(ctx, p, o.ETag == "", partWant == nil && !composite)
	if err != nil {
		return nil, err
	}
	switch {
	case len(o.PartSizes) == 0:
		if blobs[0].Digest != want {
			return nil, corrupt(o, blobs[0].Digest.String())
		}
	case partWant != nil:
		for i, b := range blobs {
			if err := checkPart(i, b, partWant[i]); err != nil {
				return nil, err
			}
		}
	case composite:
		return blobs, checkComposite(o, blobs)
	default:
		if got := hex.EncodeToString(p.whole); got != o.SHA256 {
			return nil, corrupt(o, got)
		}
	}
	return blobs, nil
}

// checkComposite checks the parts hashed into blobs against o's composite hash.
func checkComposite(o *remoteindex.Object, blobs []store.Blob) error {
	digests := make([]store.Digest, len(blobs))
	for i, b := range blobs {
		digests[i] = b.Digest
	}
	if got := compositeOf(digests).String(); got != o.SHA256 {
		return corrupt(o, got)
	}
	return nil
}

func compositeOf(parts []store.Digest) objecthash.Hash {
	digests := make([][32]byte, len(parts))
	for i, d := range parts {
		digests[i] = d
	}
	return objecthash.Composite(digests)
}

// checkPart checks part i, hashed into b, against its SHA-256 in the remote index.
func checkPart(i int, b store.Blob, want store.Digest) error {
	if b.Digest != want {
		return &objectError{fmt.Sprintf("its part %d hashes to SHA-256 %s but the remote index says %s",
			i+1, b.Digest, want), fixCorrupt}
	}
	return nil
}

// storeParts makes each part file the blob it was hashed into, renamed into
// the store (Blobs.Adopt): each byte is written once, not copied from the
// partial file into a new blob. It is called only once every byte is proven
// (fetchParts, verifyPartial): nothing unproven enters the store. It
// returns o's index entry with its blobs pinned.
func (r *Restorer) storeParts(ctx context.Context, o *remoteindex.Object, p *partial, blobs []store.Blob) (queue.Object, error) {
	if o.ETag == "" {
		o.ETag = etagOf(blobs, len(o.PartSizes) > 0)
	}
	parts := make([]queue.ObjectPart, 0, len(blobs))
	for i, b := range blobs {
		if err := r.adopt(ctx, p.partFile(i), b); err != nil {
			r.unpin(queue.Object{Parts: parts})
			return queue.Object{}, err
		}
		parts = append(parts, queue.ObjectPart{Blob: b.Digest.String(), Size: b.Size})
	}
	if len(o.PartSizes) == 0 {
		return o.ToQueue(parts[0].Blob, nil), nil
	}
	return o.ToQueue("", parts), nil
}

// adopt makes the verified file path the blob b, renamed into the store, or
// copied there when the restore's state directory is on another filesystem.
func (r *Restorer) adopt(ctx context.Context, path string, b store.Blob) error {
	if b.Size == 0 { // no range wrote its file
		_, err := r.blobs.PutVerified(ctx, strings.NewReader(""), b.Digest)
		return noSpace(err)
	}
	err := r.blobs.Adopt(ctx, path, b)
	if errors.Is(err, store.ErrCrossDevice) {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			_, err = r.blobs.PutVerified(ctx, f, b.Digest)
			f.Close()
		}
	}
	return noSpace(err)
}

// partDigests returns the SHA-256 of each of o's parts when the remote
// index gave them all, and nil otherwise.
func partDigests(o *remoteindex.Object) []store.Digest {
	if len(o.PartSizes) == 0 || len(o.PartSHA256) != len(o.PartSizes) {
		return nil
	}
	out := make([]store.Digest, len(o.PartSHA256))
	for i, s := range o.PartSHA256 {
		d, err := store.ParseDigest(s)
		if err != nil {
			return nil
		}
		out[i] = d
	}
	return out
}

// hashParts reads each part file once and returns the blob each would be,
// with its MD5 only if withMD5; if withWhole, a multipart object's SHA-256
// is left in p.whole.
func hashParts(ctx context.Context, p *partial, withMD5, withWhole bool) ([]store.Blob, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	var whole hash.Hash
	if withWhole && (len(p.parts) > 1 || len(p.meta.PartSizes) > 0) {
		whole = sha256.New()
	}
	blobs := make([]store.Blob, len(p.parts))
	for i, size := range p.parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sha := sha256.New()
		hashes := []io.Writer{sha}
		var sum hash.Hash
		if withMD5 {
			sum = md5.New()
			hashes = append(hashes, sum)
		}
		if whole != nil {
			hashes = append(hashes, whole)
		}
		w := io.Writer(sha)
		if len(hashes) > 1 {
			w = io.MultiWriter(hashes...)
		}
		f, err := os.Open(p.partFile(i))
		if err != nil && !(os.IsNotExist(err) && size == 0) {
			return nil, fmt.Errorf("restore: read partial %s: %w", p.dir, err)
		}
		var n int64
		if f != nil {
			n, err = io.CopyBuffer(w, struct{ io.Reader }{f}, *buf)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("restore: read partial %s: %w", p.dir, err)
			}
		}
		if n != size {
			return nil, fmt.Errorf("restore: read partial %s: part %d has %d bytes, want %d", p.dir, i+1, n, size)
		}
		blobs[i].Size = size
		sha.Sum(blobs[i].Digest[:0])
		if sum != nil {
			sum.Sum(blobs[i].MD5[:0])
		}
	}
	if whole != nil {
		p.whole = whole.Sum(nil)
	}
	return blobs, nil
}

// etagOf is the S3 ETag of bytes hashed into blobs with their MD5s: a
// single-part object's MD5, or the multipart ETag of its parts.
func etagOf(blobs []store.Blob, multipart bool) string {
	if !multipart {
		return fmt.Sprintf("%x", blobs[0].MD5)
	}
	md5s := make([][md5.Size]byte, len(blobs))
	for i, b := range blobs {
		md5s[i] = b.MD5
	}
	return multipartETag(md5s)
}

// copyBuffers holds the buffers part files are read back and hashed
// through: larger than io.Copy's 32 KiB, for fewer system calls per byte.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

const copyBufferSize = 256 << 10

// fetchMissing fetches the ranges the partial object lacks, Options.Ranges
// at once; the first error stops the others.
func (r *Restorer) fetchMissing(ctx context.Context, o *remoteindex.Object, p *partial, fetched *atomic.Int64) error {
	return inParallel(ctx, r.opts.Ranges, p.missing(), func(ctx context.Context, i int) error {
		return r.fetchRange(ctx, o, p, i, fetched, nil)
	})
}

// inParallel calls fn for each of items on up to workers goroutines. The
// first error cancels the context of the others and is returned.
func inParallel(ctx context.Context, workers int, items []int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	todo := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(items), 1)) {
		wg.Go(func() {
			for i := range todo {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, i := range items {
		select {
		case todo <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(todo)
	wg.Wait()
	return context.Cause(ctx)
}
