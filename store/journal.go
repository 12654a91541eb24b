package store

import (
	"context"
	"fmt"
)

// RestoreInline is Restore for a digest in lowercase hex, as the journal names
// blobs: with SyncInline, the Store is the journal's queue.InlineBlobs.
func (s *Store) RestoreInline(ctx context.Context, blob string, data []byte) error {
	d, err := ParseDigest(blob)
	if err != nil {
		return fmt.Errorf("store: restore blob %q: %w", blob, err)
	}
	return s.Restore(ctx, d, data)
}

// SyncInline is SyncStaged, for the journal's queue.InlineBlobs.
func (s *Store) SyncInline(ctx context.Context) error { return s.SyncStaged(ctx) }
