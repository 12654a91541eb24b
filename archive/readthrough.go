package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// RemoteCopy is what the remote said of the copy it read a range from.
type RemoteCopy struct {
	ETag string // unquoted
	Size int64  // of the whole remote object
	// SHA256 is the object SHA-256 the copy's own metadata records
	// (x-amz-meta-ipas-sha256); "" when it has none.
	SHA256 string
}

// Matches reports whether the copy is the version o as the index recorded
// it: the same size, and the remote ETag journaled when the version was
// uploaded, or, for a server-side copy of that upload (the remote gives a
// copy of a multipart object another ETag), the same SHA-256 in its
// metadata. The bytes are still checked against o's SHA-256 as they are
// read.
func (c RemoteCopy) Matches(o queue.Object) bool {
	if c.Size != o.Size {
		return false
	}
	if o.Replica.ETag == "" || c.ETag == "" || strings.Trim(c.ETag, `"`) == o.Replica.ETag {
		return true
	}
	return c.SHA256 != "" && c.SHA256 == o.SHA256
}

// RemoteRanges reads byte ranges of objects' remote copies (the replication
// remote client, adapted by cmd/gateway), finding the copy of the version o
// (the plain copy, the remote's version of it, or the copy under the
// versions directory). An error that wraps ErrRemoteMissing says the remote
// has no copy; any other is taken as the remote being unreachable.
type RemoteRanges interface {
	GetRange(ctx context.Context, o queue.Object, off, length int64) (io.ReadCloser, RemoteCopy, error)
}

// RestoredJournal journals a remote-only version with its blobs
// (*queue.Node), making it local again.
type RestoredJournal interface {
	PutRestoredObject(ctx context.Context, o queue.Object) (applied bool, err error)
}

var _ RestoredJournal = (*queue.Node)(nil)

// Read-through errors. Each wraps the cause and names the object and the
// remote.
var (
	// ErrRemoteUnavailable: the remote could not be read (down, refused, cut).
	ErrRemoteUnavailable = errors.New("the remote cannot be reached")
	// ErrRemoteMissing: the remote holds no copy of the object: it was lost.
	ErrRemoteMissing = errors.New("the remote holds no copy of the object")
	// ErrRemoteCorrupt: the remote copy is not the bytes the index names
	// (SHA-256, size or remote ETag differ): changed or damaged outside IPAS.
	ErrRemoteCorrupt = errors.New("the remote copy does not match the index")
)

// CachePolicy says when a read-through stores the object locally again: the
// number of reads of the object (counted in memory since the daemon started,
// whole or ranged) at which a whole read re-caches it. Only a whole read can
// re-cache, because only it is checked against the object's SHA-256.
type CachePolicy int

const (
	// CacheNever never stores read-through bytes.
	CacheNever CachePolicy = 0
	// CacheAlways re-caches on the first whole read (the default).
	CacheAlways CachePolicy = 1
)

// maxCountedObjects bounds the read counter of a CachePolicy above 1: past
// it the counts start again from zero, so memory stays bounded.
const maxCountedObjects = 100_000

// blockFetchTimeout bounds one span's fetch: it runs detached from the
// requests waiting for it, which may come and go.
const blockFetchTimeout = 2 * time.Minute

// ReadThrough reads objects whose bytes are on the remote only from the
// remote copy, in aligned blocks (BlockSize) shared between concurrent
// readers, checks them, and re-caches whole objects by its CachePolicy.
type ReadThrough struct {
	remote  RemoteRanges
	name    string // the remote, as errors name it
	journal RestoredJournal
	policy  CachePolicy
	log     zerolog.Logger
	blobs   *store.Store // set by Archive.SetReadThrough
	group   *blockGroup

	mu      sync.Mutex
	reads   map[string]int  // object version -> reads, for a policy above 1
	caching map[string]bool // object versions being re-cached

	fetched atomic.Int64
	cached  atomic.Int64
}

// NewReadThrough reads through from remote (described by name, e.g. its
// endpoint, bucket and prefix) and re-caches into journal by policy.
func NewReadThrough(remote RemoteRanges, name string, journal RestoredJournal, policy CachePolicy, log zerolog.Logger) *ReadThrough {
	return &ReadThrough{
		remote: remote, name: name, journal: journal, policy: policy,
		log:   log.With().Str("component", "readthrough").Logger(),
		group: newBlockGroup(), reads: map[string]int{}, caching: map[string]bool{},
	}
}

// FetchedBytes is the number of bytes read from the remote so far.
func (rt *ReadThrough) FetchedBytes() int64 { return rt.fetched.Load() }

// CachedObjects is the number of objects made local again so far.
func (rt *ReadThrough) CachedObjects() int64 { return rt.cached.Load() }

// SetReadThrough makes a's remote-only objects readable through rt
// (OpenRemote). Set it before serving reads; nil turns read-through off.
func (a *Archive) SetReadThrough(rt *ReadThrough) {
	if rt != nil {
		rt.blobs = a.blobs
	}
	a.rt.Store(rt)
}

// ReadsThrough reports whether remote-only objects can be read (OpenRemote).
func (a *Archive) ReadsThrough() bool { return a.rt.Load() != nil }

// OpenRemote returns bytes [off, off+length) of o, whose bytes are on the
// remote only, read through from the remote copy. Its first bytes are
// fetched before it returns, so that an unreachable remote
// (ErrRemoteUnavailable), a lost copy (ErrRemoteMissing) or one that is not
// the indexed version (ErrRemoteCorrupt) is known before a caller answers.
// The first bytes are served as they arrive from the remote, not once their
// block is whole. Without read-through (SetReadThrough) it is ErrRemoteOnly.
//
// A whole read is checked against o's SHA-256: the block holding the last
// bytes is served only once whole and every byte hashed right, so a mismatch
// cuts the read short (its Read fails with ErrRemoteCorrupt) instead of
// handing out wrong bytes, and an object of one block is refused before its
// first byte; a whole read may also re-cache o (CachePolicy). A ranged read
// cannot be checked against the SHA-256: each of its blocks is checked
// against the remote copy's recorded ETag and size only, and served as read.
func (a *Archive) OpenRemote(ctx context.Context, o queue.Object, off, length int64) (io.ReadCloser, error) {
	rt := a.rt.Load()
	if rt == nil || !o.RemoteOnly {
		return nil, ErrRemoteOnly
	}
	a.recordRead(o, false)
	whole := off == 0 && length == o.Size
	src := &remoteSource{rt: rt, o: o}
	if whole {
		src.check = newWholeCheck(o)
		if rt.shouldCache(o) {
			if a.room(o.Size) {
				src.cache = newRecache(rt, o)
			} else {
				rt.release(o, false) // no room: re-caching would make eviction run
			}
		}
	} else {
		rt.countRead(o)
	}
	rc, err := OpenRange(ctx, src, []Piece{{Size: o.Size}}, off, length)
	if err != nil {
		src.cache.abort(err)
		return nil, err
	}
	return rc, nil
}

func versionName(o queue.Object) string { return o.Bucket + "/" + o.Key + "\x00" + o.VersionID }

// countRead counts a read of o for a CachePolicy above 1.
func (rt *ReadThrough) countRead(o queue.Object) int {
	if rt.policy <= CacheAlways {
		return int(rt.policy)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.reads) >= maxCountedObjects {
		clear(rt.reads)
	}
	v := versionName(o)
	rt.reads[v]++
	return rt.reads[v]
}

// shouldCache counts a whole read of o and reports whether it re-caches o:
// the policy says so and no other read is re-caching it already.
func (rt *ReadThrough) shouldCache(o queue.Object) bool {
	n := rt.countRead(o)
	if rt.policy == CacheNever || n < int(rt.policy) {
		return false
	}
	return rt.startCaching(o)
}

// startCaching reports whether o may be re-cached now: no other read is
// re-caching it already. A true answer must be followed by release.
func (rt *ReadThrough) startCaching(o queue.Object) bool {
	if rt.blobs == nil {
		return false
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	v := versionName(o)
	if rt.caching[v] {
		return false
	}
	rt.caching[v] = true
	return true
}

func (rt *ReadThrough) release(o queue.Object, cached bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	v := versionName(o)
	delete(rt.caching, v)
	if cached {
		delete(rt.reads, v)
	}
}

// blocks returns the pinned fetches of up to n blocks of o from first on,
// running or retained or new (blockGroup.pinBlocks); at least one when need.
func (rt *ReadThrough) blocks(o queue.Object, first, n int64, need bool, cur *readCursor) []*blockFetch {
	g := rt.group
	return g.pinBlocks(versionName(o), first, n, need, func(fs []*blockFetch) { rt.fetchSpan(g, o, fs) }, cur)
}

// fetchSpan reads the consecutive blocks fs of o, fetches of g, from the
// remote with one ranged GET, handing each block out as its bytes arrive,
// and checks that the remote copy is the version the index recorded.
func (rt *ReadThrough) fetchSpan(g *blockGroup, o queue.Object, fs []*blockFetch) {
	fail := func(err error) {
		for _, f := range fs {
			g.done(f, nil, err)
		}
	}
	off := fs[0].key.index * BlockSize
	n := min(int64(len(fs))*BlockSize, o.Size-off)
	ctx, cancel := context.WithTimeout(context.Background(), blockFetchTimeout)
	defer cancel()
	rc, rcopy, err := rt.remote.GetRange(ctx, o, off, n)
	if err != nil {
		fail(rt.remoteError(o, err))
		return
	}
	defer rc.Close()
	if !rcopy.Matches(o) {
		err := fmt.Errorf("archive: read %s/%s through from %s: %w: it holds %d bytes with ETag %s, the index recorded %d bytes with ETag %s",
			o.Bucket, o.Key, rt.name, ErrRemoteCorrupt, rcopy.Size, rcopy.ETag, o.Size, o.Replica.ETag)
		rt.logCorrupt(o, err)
		fail(err)
		return
	}
	for len(fs) > 0 {
		f := fs[0]
		buf := g.buffer(f, min(BlockSize, o.Size-f.key.index*BlockSize))
		if err := readBlock(rc, f, buf); err != nil {
			fail(rt.remoteError(o, err))
			return
		}
		rt.fetched.Add(int64(len(buf)))
		g.done(f, buf, nil)
		fs = fs[1:]
	}
}

// readBlock fills buf, f's buffer, from r, handing each read's bytes to
// the readers waiting on f as they arrive (blockFetch.arrive).
func readBlock(r io.Reader, f *blockFetch, buf []byte) error {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if m > 0 {
			f.arrive(buf[:n])
		}
		if err != nil && n < len(buf) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func (rt *ReadThrough) remoteError(o queue.Object, err error) error {
	if errors.Is(err, ErrRemoteMissing) {
		rt.log.Error().Err(err).Str("bucket", o.Bucket).Str("key", o.Key).
			Msg("read-through: the remote holds no copy of an object whose bytes are on the remote only: it is lost; `gateway remote reconcile` lists such objects")
		return fmt.Errorf("archive: read %s/%s through from %s: %w", o.Bucket, o.Key, rt.name, err)
	}
	return fmt.Errorf("archive: read %s/%s through from %s: %w: %w", o.Bucket, o.Key, rt.name, ErrRemoteUnavailable, err)
}

func (rt *ReadThrough) logCorrupt(o queue.Object, err error) {
	rt.group.forget(versionName(o))
	rt.log.Error().Err(err).Str("bucket", o.Bucket).Str("key", o.Key).Str("version", o.VersionID).
		Msg("read-through: the remote copy was changed or damaged outside IPAS; the GET failed and nothing was cached. " +
			"Fix: this archive holds no other copy of these bytes: PUT the object again from another copy, or delete it")
}

// Fetch makes o, whose bytes are on the remote only, local again, whatever
// the CachePolicy: a whole read through the remote, checked against its
// SHA-256 as any whole read is, whose bytes are stored and journaled. The
// write is admitted like any other (Capacity). cached is false when another
// read was re-caching o already; the error is the read's.
func (a *Archive) Fetch(ctx context.Context, o queue.Object) (cached bool, err error) {
	rt := a.rt.Load()
	if rt == nil || !o.RemoteOnly {
		return false, ErrRemoteOnly
	}
	if err := a.admit(ctx, o.Size); err != nil {
		return false, err
	}
	if !rt.startCaching(o) {
		return false, nil
	}
	before := rt.cached.Load()
	src := &remoteSource{rt: rt, o: o, check: newWholeCheck(o), cache: newRecache(rt, o)}
	rc, err := OpenRange(ctx, src, []Piece{{Size: o.Size}}, 0, o.Size)
	if err != nil {
		src.cache.abort(err)
		return false, err
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	return err == nil && rt.cached.Load() > before, err
}
