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
	"github.com/ipas/ipas/queue"
)

// maxHashedUploads bounds the multipart uploads whose parts are hashed ahead of
// CompleteMultipartUpload; more at once (or ones a client abandoned) fall back to
// hashing everything at Complete.
const maxHashedUploads = 64

// uploadHashes computes, while a multipart upload is still receiving parts, the
// SHA-256 of its parts 1, 2, 3... joined in order, reading each part back from the
// page cache once it and all before it are stored. The object's SHA-256 is sequential
// over all its bytes and Complete must answer with it journaled: computed there, it
// was a pass over the whole object (0.6 s per GiB on the test VM) after the last
// part, with nothing else to overlap. Done ahead, it overlaps the upload's own
// waits (network, fsync); Complete only finishes it. The chain is a guess that the
// object will be parts 1..n as uploaded: Complete uses it only when its list starts
// with exactly the parts hashed.
type uploadHashes struct {
	mu     sync.Mutex
	chains map[string]*partChain // by upload ID
	order  []string              // upload IDs, oldest first, for eviction
}

// partChain is the running hash of one upload's leading parts: their SHA-256 and,
// for an upload created without a checksum, the one S3 gives it (checksum.Default).
type partChain struct {
	mu      sync.Mutex
	h       hash.Hash
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
		c = newPartChain(read, algo)
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

func newPartChain(read func(queue.UploadPart, io.Writer) error, algo checksum.Algorithm) *partChain {
	c := &partChain{h: sha256.New(), algo: algo, waiting: make(map[int]queue.UploadPart), read: read}
	c.w = c.h
	if algo != "" {
		c.sum = algo.New()
		c.w = io.MultiWriter(c.h, c.sum)
	}
	c.idle = sync.NewCond(&c.mu)
	return c
}

// take removes uploadID's chain and returns it holding the concatenation of the
// first k of parts, k as large as the chain allows (0 and a fresh chain when it
// is of no use), once any hashing in progress has finished.
func (u *uploadHashes) take(uploadID string, parts []queue.UploadPart) (*partChain, int) {
	u.mu.Lock()
	c := u.chains[uploadID]
	u.forgetLocked(uploadID)
	u.mu.Unlock()
	if c == nil {
		return newPartChain(nil, ""), 0
	}
	c.mu.Lock()
	c.broken = true // stops extend after the part it is reading
	for c.busy {
		c.idle.Wait()
	}
	hashed := c.hashed
	c.mu.Unlock()
	if len(hashed) > len(parts) {
		return newPartChain(nil, ""), 0
	}
	for i, p := range hashed {
		if parts[i].Number != p.Number || parts[i].Blob != p.Blob || parts[i].Size != p.Size {
			return newPartChain(nil, ""), 0
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

// hashAhead adds a part stored for upload u to the chain hashed ahead of Complete,
// with the checksum Complete computes for an upload created without one. The
// hashing outlives the request: it runs on the background context.
func (s *Server) hashAhead(u queue.Upload, p queue.UploadPart) {
	var algo checksum.Algorithm
	if u.ChecksumAlgorithm == "" {
		algo = checksum.Default
	}
	s.partHashes.partStored(u.ID, algo, p, s.readPart(context.Background()))
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

// objectHashes returns the hex SHA-256 of the object made of parts and, when
// extra is not "", its digest under extra: what the upload's chain has hashed
// already, then the rest read from the parts' blobs. An extra algorithm the chain
// did not carry costs one pass over the whole object.
func (s *Server) objectHashes(ctx context.Context, uploadID string, parts []queue.UploadPart, extra checksum.Algorithm) (string, []byte, error) {
	c, k := s.partHashes.take(uploadID, parts)
	if extra != "" && c.algo != extra {
		c, k = newPartChain(nil, extra), 0
	}
	read := s.readPart(ctx)
	for _, p := range parts[k:] {
		if err := read(p, c.w); err != nil {
			return "", nil, err
		}
	}
	var digest []byte
	if extra != "" {
		digest = c.sum.Sum(nil)
	}
	return hex.EncodeToString(c.h.Sum(nil)), digest, nil
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
