package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sync"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/queue"
)

// maxHashedUploads bounds the multipart uploads whose parts are hashed ahead of
// CompleteMultipartUpload; more at once (or ones a client abandoned) fall back to
// hashing everything at Complete.
const maxHashedUploads = 64

// uploadHashes computes, while a multipart upload is still receiving parts, the
// checksum S3 gives an upload created without one (checksum.Default) over its
// parts 1, 2, 3... joined in order, reading each part back from the page cache
// once it and all before it are stored: a full-object checksum is sequential over
// all the bytes and Complete must answer with it. Done ahead, it overlaps the
// upload's own waits (network, fsync); Complete only finishes it. The object's
// hash needs no such pass: it is the composite of the parts' SHA-256 (package
// objecthash), or, for parts of too many sizes, hashed at Complete. The chain is a
// guess that the object will be parts 1..n as uploaded: Complete uses it only
// when its list starts with exactly the parts hashed.
type uploadHashes struct {
	mu     sync.Mutex
	chains map[string]*partChain // by upload ID
	order  []string              // upload IDs, oldest first, for eviction
}

// partChain is the running hash of one upload's leading parts: the checksum S3
// gives an upload created without one (checksum.Default) and, at Complete only,
// their SHA-256.
type partChain struct {
	mu      sync.Mutex
	h       hash.Hash                // nil when the SHA-256 is not wanted
	algo    checksum.Algorithm       // of sum; "" when there is none
	sum     hash.Hash                // nil when algo is ""
	w       io.Writer                // h and sum
	hashed  []queue.UploadPart       // parts 1..len(hashed), in h
	waiting map[int]queue.UploadPart // stored parts not yet next in line
	busy    bool                     // a goroutine is extending h
	idle    *sync.Cond               // signalled when busy turns false
	broken  bool                     // a hashed part was replaced or unreadable
	read    func(queue.UploadPart, io.Writer) error
}

// partStored adds a stored part of uploadID to its chain and, when it extends the
// chain, starts hashing in the background.
func (u *uploadHashes) partStored(uploadID string, algo checksum.Algorithm, p queue.UploadPart, read func(queue.UploadPart, io.Writer) error) {
	u.mu.Lock()
	if u.chains == nil {
		u.chains = make(map[string]*partChain)
	}
	c := u.chains[uploadID]
	if c == nil {
		if len(u.order) >= maxHashedUploads {
			delete(u.chains, u.order[0])
			u.order = u.order[1:]
		}
		c = newPartChain(read, algo, false)
		u.chains[uploadID] = c
		u.order = append(u.order, uploadID)
	}
	u.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return
	}
	if p.Number <= len(c.hashed) {
		if c.hashed[p.Number-1].Blob != p.Blob {
			c.broken = true // a hashed part was uploaded again with other content
		}
		return
	}
	c.waiting[p.Number] = p // at most MaxParts entries: one per part number
	if !c.busy {
		c.busy = true
		go c.extend()
	}
}

// extend hashes waiting parts for as long as the next one in line is there.
func (c *partChain) extend() {
	c.mu.Lock()
	defer func() {
		c.busy = false
		c.idle.Broadcast()
		c.mu.Unlock()
	}()
	for !c.broken {
		p, ok := c.waiting[len(c.hashed)+1]
		if !ok {
			return
		}
		delete(c.waiting, p.Number)
		c.mu.Unlock()
		err := c.read(p, c.w) // only this goroutine touches the hashes while busy
		c.mu.Lock()
		if err != nil {
			c.broken = true
			return
		}
		c.hashed = append(c.hashed, p)
	}
}

func newPartChain(read func(queue.UploadPart, io.Writer) error, algo checksum.Algorithm, withSHA bool) *partChain {
	c := &partChain{algo: algo, waiting: make(map[int]queue.UploadPart), read: read}
	var ws []io.Writer
	if withSHA {
		c.h = sha256.New()
		ws = append(ws, c.h)
	}
	if algo != "" {
		c.sum = algo.New()
		ws = append(ws, c.sum)
	}
	c.w = io.MultiWriter(ws...)
	c.idle = sync.NewCond(&c.mu)
	return c
}

// take removes uploadID's chain and returns it holding the concatenation of the
// first k of parts, k as large as the chain allows (nil and 0 when it
// is of no use), once any hashing in progress has finished.
func (u *uploadHashes) take(uploadID string, parts []queue.UploadPart) (*partChain, int) {
	u.mu.Lock()
	c := u.chains[uploadID]
	u.forgetLocked(uploadID)
	u.mu.Unlock()
	if c == nil {
		return nil, 0
	}
	c.mu.Lock()
	c.broken = true // stops extend after the part it is reading
	for c.busy {
		c.idle.Wait()
	}
	hashed := c.hashed
	c.mu.Unlock()
	if len(hashed) > len(parts) {
		return nil, 0
	}
	for i, p := range hashed {
		if parts[i].Number != p.Number || parts[i].Blob != p.Blob || parts[i].Size != p.Size {
			return nil, 0
		}
	}
	return c, len(hashed)
}

// forget drops uploadID's chain (the upload was aborted).
func (u *uploadHashes) forget(uploadID string) {
	u.mu.Lock()
	u.forgetLocked(uploadID)
	u.mu.Unlock()
}

func (u *uploadHashes) forgetLocked(uploadID string) {
	if _, ok := u.chains[uploadID]; !ok {
		return
	}
	delete(u.chains, uploadID)
	for i, id := range u.order {
		if id == uploadID {
			u.order = append(u.order[:i], u.order[i+1:]...)
			break
		}
	}
}

// hashAhead adds a part stored for upload u to the chain hashed ahead of Complete
// when u was created without a checksum, which Complete then computes; an upload
// with one has nothing to hash ahead. The hashing outlives the request: it runs on
// the background context.
func (s *Server) hashAhead(u queue.Upload, p queue.UploadPart) {
	if u.ChecksumAlgorithm != "" {
		return
	}
	s.partHashes.partStored(u.ID, checksum.Default, p, s.readPart(context.Background()))
}

// readPart copies one stored part into w.
func (s *Server) readPart(ctx context.Context) func(queue.UploadPart, io.Writer) error {
	return func(p queue.UploadPart, w io.Writer) error {
		r := s.objects.OpenPieces(ctx, []archive.Piece{{Blob: p.Blob, Size: p.Size}}, 0, p.Size)
		defer r.Close()
		n, err := io.Copy(largeReads{w}, r)
		if err == nil && n != p.Size {
			err = errors.New("gateway: hash part: short read")
		}
		return err
	}
}

// objectHashes returns the hash of the object made of parts (package objecthash)
// and, when extra is not "", its digest under extra. The hash is the composite of
// the parts' SHA-256, their blob names, unless the parts are of too many sizes for
// the remote copy to carry them (objecthash.Fits): then it is the full SHA-256,
// one pass over the whole object. The extra digest is what the upload's chain
// has hashed already, then the rest read from the parts' blobs.
func (s *Server) objectHashes(ctx context.Context, uploadID string, parts []queue.UploadPart, extra checksum.Algorithm) (string, []byte, error) {
	sha, full := compositeHash(parts)
	var c *partChain
	k := 0
	if !full {
		c, k = s.partHashes.take(uploadID, parts)
	} else {
		s.partHashes.forget(uploadID)
	}
	if c == nil || c.algo != extra {
		c, k = newPartChain(nil, extra, full), 0
	}
	if full || extra != "" {
		read := s.readPart(ctx)
		for _, p := range parts[k:] {
			if err := read(p, c.w); err != nil {
				return "", nil, err
			}
		}
	}
	if full {
		sha = hex.EncodeToString(c.h.Sum(nil))
	}
	var digest []byte
	if extra != "" {
		digest = c.sum.Sum(nil)
	}
	return sha, digest, nil
}

// compositeHash is the object hash of parts when it needs no pass over their
// bytes: the part's own SHA-256 for one part, the composite for parts that
// objecthash.Fits. full says the whole object must be hashed instead.
func compositeHash(parts []queue.UploadPart) (sha string, full bool) {
	if len(parts) == 1 {
		return parts[0].Blob, false
	}
	sizes := make([]int64, len(parts))
	names := make([]string, len(parts))
	for i, p := range parts {
		sizes[i], names[i] = p.Size, p.Blob
	}
	if !objecthash.Fits(sizes) {
		return "", true
	}
	h, err := objecthash.CompositeOf(names)
	if err != nil {
		return "", true
	}
	return h.String(), false
}

// hashReadSize is how much a part's hashing reads from the page cache at once:
// eight times fewer read calls than io.Copy's 32 KiB (about 4% of the CPU of
// the pass, on the test VM; the copy out of the page cache costs the rest of
// the reading, a quarter as much as the SHA-256 itself).
const hashReadSize = 256 << 10

var hashReadBufs = sync.Pool{New: func() any { b := make([]byte, hashReadSize); return &b }}

// largeReads is a writer that takes bytes from a reader (io.ReaderFrom, which a
// stored blob's WriteTo uses) in hashReadSize reads.
type largeReads struct{ w io.Writer }

func (l largeReads) Write(p []byte) (int, error) { return l.w.Write(p) }

func (l largeReads) ReadFrom(r io.Reader) (int64, error) {
	buf := hashReadBufs.Get().(*[]byte)
	defer hashReadBufs.Put(buf)
	return io.CopyBuffer(l.w, r, *buf)
}
