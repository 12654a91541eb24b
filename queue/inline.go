package queue

import (
	"context"
	"fmt"
	"time"
)

// MaxInlineBytes bounds the bytes one PutObjectInline may carry in its raft
// entry; the gateway inlines far smaller objects (see gateway.DefaultInlineMax).
const MaxInlineBytes = 256 << 10

// DefaultSnapshotInlineBytes triggers a snapshot once this many bytes of
// inlined object data have been applied since the last one. Inlined bytes
// are counted apart from SnapshotLogBytes: they make the log grow as fast as
// the store, and a snapshot (a copy of fsm.db) for every 64 MiB of small
// objects would write more than the objects themselves.
const DefaultSnapshotInlineBytes = 1 << 30

// InlineBlobs is the blob store as the journal sees it, for objects whose
// bytes travel in their raft entry (PutObjectInline) because their blob is
// not durable yet when they are journaled. store.Store provides both
// methods (through an adapter for the digest type).
type InlineBlobs interface {
	// RestoreInline makes sure that blob (lowercase hex SHA-256) exists with
	// content data. It runs while the entry is applied: cheap when the blob is
	// staged or stored, a durable write when a crash lost it.
	RestoreInline(ctx context.Context, blob string, data []byte) error
	// SyncInline returns once every blob staged before the call is durable.
	// fsm.db commits only after it, since a committed entry is never replayed.
	SyncInline(ctx context.Context) error
}

// PutObjectInline is PutObject for an object stored as one blob that is not
// durable yet (store.Stage): data, the blob's bytes, go into the raft entry,
// so that the log's fsync makes the object durable, and the entry restores
// the blob if a crash loses it before the store has synced it. It needs
// Config.Inline. len(data) must be o.Size, at most MaxInlineBytes.
func (n *Node) PutObjectInline(ctx context.Context, o Object, data []byte) error {
	if n.cfg.Inline == nil {
		return fmt.Errorf("queue: %s/%s: inline data needs Config.Inline: %w", o.Bucket, o.Key, ErrInvalidCommand)
	}
	now := time.Now()
	if o.ModTime.IsZero() {
		o.ModTime = now
	}
	return n.propose(ctx, &command{Op: opObjectPut, Time: now, Bucket: o.Bucket, Key: o.Key, Object: o, Inline: data})
}

// validateInline checks inline data against the object it belongs to.
func validateInline(c *command, bad func(string, ...any) error) error {
	switch {
	case c.Inline == nil:
		return nil
	case len(c.Inline) == 0:
		return bad("empty inline data (an empty object needs no inline copy)")
	case c.Op != opObjectPut:
		return bad("inline data on a %s", c.Op)
	case len(c.Inline) > MaxInlineBytes:
		return bad("%d bytes of inline data, more than %d", len(c.Inline), MaxInlineBytes)
	case int64(len(c.Inline)) != c.Object.Size || c.Object.Blob == "" || len(c.Object.Parts) > 0:
		return bad("%d bytes of inline data for a %d-byte object of blob %q", len(c.Inline), c.Object.Size, c.Object.Blob)
	}
	return nil
}

// restoreInline has the blob store make sure the blob of an applied
// ObjectPut exists with the bytes its entry carries.
func (a *applier) restoreInline(c *command) error {
	if a.inline == nil {
		return fmt.Errorf("%s/%s carries inline data but no blob store is configured (Config.Inline)", c.Bucket, c.Key)
	}
	if err := a.inline(c.Object.Blob, c.Inline); err != nil {
		return err
	}
	a.inlineBytes += int64(len(c.Inline))
	return nil
}

// restoreInline returns applyEntry's callback for inline data: nil without a
// blob store.
func (f *fsm) restoreInline() func(blob string, data []byte) error {
	if f.inline == nil {
		return nil
	}
	return func(blob string, data []byte) error {
		return f.inline.RestoreInline(context.Background(), blob, data)
	}
}

// Inlines reports whether PutObjectInline works: Config.Inline is set.
func (n *Node) Inlines() bool { return n.cfg.Inline != nil }
