package replication

import (
	"context"
	"io"

	"github.com/ipas/ipas/archive"
)

// openRange returns bytes [off, off+length) of the object made of pieces,
// opening each local blob only when the read reaches it. A range the pieces
// do not hold is store.ErrInvalidRange, and the first blob is opened at once,
// so that a missing one fails the job before a request is sent.
func openRange(ctx context.Context, blobs Blobs, pieces []Piece, off, length int64) (io.ReadCloser, error) {
	return archive.OpenRange(ctx, archive.LocalSource{Blobs: blobs}, pieces, off, length)
}
