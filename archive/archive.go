package archive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// Journal is the index as an archive writes it (*queue.Node).
type Journal interface {
	PutObject(ctx context.Context, o queue.Object) error
	// PutObjectInline journals o with data, the bytes of its staged blob.
	PutObjectInline(ctx context.Context, o queue.Object, data []byte) error
	// PutObjectIf journals o (with data, as PutObjectInline) if cond holds
	// when the journal applies it: queue.ErrPreconditionFailed or
	// queue.ErrNoSuchKey otherwise.
	PutObjectIf(ctx context.Context, o queue.Object, data []byte, cond queue.Condition) error
	// Inlines reports whether PutObjectInline works.
	Inlines() bool
	// SpaceError is queue.ErrNoSpace while the disk is full and the
	// journal refuses new data: a body is then refused before it is
	// stored, instead of taking the space the journal keeps for deletes.
	SpaceError() error
}

var _ Journal = (*queue.Node)(nil)

// Archive is the objects of one data directory: their index entries in the
// journal and their bytes in the blob store.
type Archive struct {
	// blobs is the store itself, not an interface: its Stage keeps the
	// expected digest on the caller's stack, which a call through an
	// interface would move to the heap on every small PUT.
	blobs    *store.Store
	journal  Journal
	local    PieceSource
	rt       atomic.Pointer[ReadThrough] // nil: remote-only objects are not read
	capacity atomic.Pointer[Capacity]    // nil: every write is admitted
}

// New returns the archive of the objects that journal indexes and blobs holds.
func New(blobs *store.Store, journal Journal) *Archive {
	return &Archive{blobs: blobs, journal: journal, local: LocalSource{Blobs: blobs}}
}

// Put stores r as one blob, returned pinned (see Commit). An error of r aborts
// it without a trace. A write the Capacity refuses stores nothing.
func (a *Archive) Put(ctx context.Context, r io.Reader) (store.Blob, error) {
	if err := a.journal.SpaceError(); err != nil {
		return store.Blob{}, fmt.Errorf("archive: put: %w", err)
	}
	if err := a.admit(ctx, declaredSize(r)); err != nil {
		return store.Blob{}, err
	}
	return a.blobs.Put(ctx, r)
}

// PutVerified is Put for a body whose SHA-256 the client signed: the store,
// which hashes every blob anyway, checks it, so the caller need not hash the
// body a second time. A mismatch is a *store.DigestMismatchError, and nothing
// is stored.
func (a *Archive) PutVerified(ctx context.Context, r io.Reader, want store.Digest) (store.Blob, error) {
	if err := a.journal.SpaceError(); err != nil {
		return store.Blob{}, fmt.Errorf("archive: put: %w", err)
	}
	if err := a.admit(ctx, declaredSize(r)); err != nil {
		return store.Blob{}, err
	}
	return a.blobs.PutVerified(ctx, r, want)
}

// PutExpected is Put for a body whose SHA-256 and/or MD5 the client claimed
// (store.Expected): the store checks them with the hashes it computes anyway.
// A mismatch stores nothing.
func (a *Archive) PutExpected(ctx context.Context, r io.Reader, e store.Expected) (store.Blob, error) {
	return a.blobs.PutExpected(ctx, r, e)
}

// Adopt makes the file at path the blob b by rename, pinned (see Commit);
// the caller has hashed it (store.Store.Adopt).
func (a *Archive) Adopt(ctx context.Context, path string, b store.Blob) error {
	return a.blobs.Adopt(ctx, path, b)
}

// Inlines reports whether small bodies can be staged (Stage): the journal
// carries their bytes until the store has made them durable.
func (a *Archive) Inlines() bool { return a.journal.Inlines() }

// Stage stores a small body, whole in data, without waiting for the disk. The
// blob is returned pinned, with inline, the bytes Commit must journal with
// the object: nil when an identical blob was durable already.
func (a *Archive) Stage(ctx context.Context, data []byte) (b store.Blob, inline []byte, err error) {
	return a.stage(ctx, data, nil)
}

// StageVerified is Stage for a body whose SHA-256 the client signed (see
// PutVerified).
func (a *Archive) StageVerified(ctx context.Context, data []byte, want store.Digest) (b store.Blob, inline []byte, err error) {
	return a.stage(ctx, data, &want)
}

func (a *Archive) stage(ctx context.Context, data []byte, want *store.Digest) (store.Blob, []byte, error) {
	if !a.journal.Inlines() {
		return store.Blob{}, nil, errors.New("archive: stage: the journal does not carry inline data (queue.Config.Inline)")
	}
	if err := a.journal.SpaceError(); err != nil {
		return store.Blob{}, nil, fmt.Errorf("archive: stage: %w", err)
	}
	if err := a.admit(ctx, int64(len(data))); err != nil {
		return store.Blob{}, nil, err
	}
	b, staged, err := a.blobs.Stage(ctx, data, want)
	if err != nil || !staged {
		return b, nil, err
	}
	return b, data, nil
}

// SyncStaged returns once every blob staged before the call is durable. A
// caller that journals a staged blob without its bytes (PutObject, not
// Commit with inline) must call it first, or a crash could lose a blob the
// journal names.
func (a *Archive) SyncStaged(ctx context.Context) error { return a.blobs.SyncStaged(ctx) }

// Commit journals o, whose blobs were stored by Put or Stage (inline: what
// Stage returned). Its blobs must stay pinned until Commit returns: the caller
// unpins them afterwards, whether or not the journal took the object.
func (a *Archive) Commit(ctx context.Context, o queue.Object, inline []byte) error {
	if inline != nil {
		return a.journal.PutObjectInline(ctx, o, inline)
	}
	return a.journal.PutObject(ctx, o)
}

// CommitIf is Commit under cond, which the journal checks atomically with the
// write. When cond fails (queue.ErrPreconditionFailed, or queue.ErrNoSuchKey
// for an If-Match on a key with no version) nothing names o's blobs, so the
// collector removes them once the caller unpins them.
func (a *Archive) CommitIf(ctx context.Context, o queue.Object, inline []byte, cond queue.Condition) error {
	if cond.IsZero() {
		return a.Commit(ctx, o, inline)
	}
	return a.journal.PutObjectIf(ctx, o, inline, cond)
}

// Unpin releases a blob returned pinned by Put or Stage.
func (a *Archive) Unpin(d store.Digest) { a.blobs.Unpin(d) }

// PinObject pins the blobs of an existing object until release is called, so
// that a new entry can name them (a copy) even if o is deleted meanwhile:
// unpinned, the collector could remove them after it marked the index and
// before the new entry existed. A blob already gone is store.ErrNotFound; an
// object whose bytes are on the remote only is ErrRemoteOnly.
func (a *Archive) PinObject(o queue.Object) (release func(), err error) {
	if o.RemoteOnly {
		return nil, ErrRemoteOnly
	}
	pinned, err := a.pinPieces(Pieces(o))
	if err != nil {
		a.unpinAll(pinned)
		return nil, err
	}
	return func() { a.unpinAll(pinned) }, nil
}

// pinPieces pins the blobs of pieces: it returns those it pinned and the
// error of the first that could not be (gone already).
func (a *Archive) pinPieces(pieces []Piece) ([]store.Digest, error) {
	var pinned []store.Digest
	var first error
	for _, p := range pieces {
		if p.Size == 0 && p.Blob == "" {
			continue
		}
		d, err := p.Digest()
		if err == nil {
			err = a.blobs.Pin(d)
		}
		if err != nil {
			first = cmp.Or(first, err)
			continue
		}
		pinned = append(pinned, d)
	}
	return pinned, first
}

func (a *Archive) unpinAll(ds []store.Digest) {
	for _, d := range ds {
		a.blobs.Unpin(d)
	}
}

// Open returns bytes [off, off+length) of o. Pieces are opened as the read
// reaches them (NewReader); the blobs of those the range covers are pinned
// until Close, so that an eviction or a delete meanwhile cannot have the
// collector remove a piece the read has not reached yet. A piece gone before
// Open is the error of the Read that reaches it. Reading an object whose
// bytes are on the remote only fails with ErrRemoteOnly: check Local first,
// and read it with OpenRemote.
func (a *Archive) Open(ctx context.Context, o queue.Object, off, length int64) io.ReadCloser {
	if o.RemoteOnly {
		return failedReader{ErrRemoteOnly}
	}
	a.recordRead(o, true)
	pieces := Pieces(o)
	pinned, _ := a.pinPieces(coveredPieces(pieces, off, length))
	return &pinnedReader{Reader: NewReader(ctx, a.local, pieces, off, length), a: a, pinned: pinned}
}

// coveredPieces returns the pieces that hold bytes of [off, off+length).
func coveredPieces(pieces []Piece, off, length int64) []Piece {
	var first, end int
	var start int64
	for i, p := range pieces {
		if start+p.Size <= off {
			first = i + 1 // ends before the range
		}
		if start < off+length {
			end = i + 1 // starts before the range's end
		}
		start += p.Size
	}
	if length <= 0 || first >= end {
		return nil
	}
	return pieces[first:end]
}

// pinnedReader is a Reader whose pieces stay pinned until Close.
type pinnedReader struct {
	*Reader
	a      *Archive
	pinned []store.Digest
}

// Close closes the piece being read and unpins the pieces; a second Close
// does nothing more.
func (r *pinnedReader) Close() error {
	err := r.Reader.Close()
	r.a.unpinAll(r.pinned)
	r.pinned = nil
	return err
}

// OpenPieces returns bytes [off, off+length) of local pieces that are not an
// object yet (the parts of a multipart upload), opened as Open does.
func (a *Archive) OpenPieces(ctx context.Context, pieces []Piece, off, length int64) io.ReadCloser {
	return NewReader(ctx, a.local, pieces, off, length)
}

// failedReader is a reader whose every Read fails with err.
type failedReader struct{ err error }

func (r failedReader) Read([]byte) (int, error) { return 0, r.err }
func (r failedReader) Close() error             { return nil }
