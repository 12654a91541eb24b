package archive

import (
	"context"
	"io"

	"github.com/ipas/ipas/queue"
)

// Capacity is what the archive asks before it stores new bytes, and tells
// of every read (cache.Cache).
type Capacity interface {
	// Admit returns nil when a write of size bytes (0: unknown) may start,
	// or an error that says why not (a full capacity of data that is not
	// offsite yet).
	Admit(ctx context.Context, size int64) error
	// Room reports whether size more bytes fit without making eviction
	// run: a read-through re-caches only then.
	Room(size int64) bool
	// Read records a read of o, of its local bytes or through from the
	// remote.
	Read(o queue.Object, local bool)
}

// SizedReader is a body that knows its length before it is read (the S3
// gateway's request bodies): Put asks Capacity for that many bytes.
type SizedReader interface {
	io.Reader
	DeclaredSize() int64
}

// SetCapacity makes a admit writes and record reads through c. Set it
// before serving; nil admits everything.
func (a *Archive) SetCapacity(c Capacity) { a.capacity.Store(&c) }

func (a *Archive) admit(ctx context.Context, size int64) error {
	if c := a.capacity.Load(); c != nil && *c != nil {
		return (*c).Admit(ctx, size)
	}
	return nil
}

func (a *Archive) room(size int64) bool {
	if c := a.capacity.Load(); c != nil && *c != nil {
		return (*c).Room(size)
	}
	return true
}

func (a *Archive) recordRead(o queue.Object, local bool) {
	if c := a.capacity.Load(); c != nil && *c != nil {
		(*c).Read(o, local)
	}
}

func declaredSize(r io.Reader) int64 {
	if s, ok := r.(SizedReader); ok {
		return s.DeclaredSize()
	}
	return 0
}
