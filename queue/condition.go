package queue

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Condition is a precondition of a write (ObjectPut, UploadComplete),
// evaluated when the write is applied, atomically with it: of concurrent
// writes with IfNoneMatch to a new key, exactly one applies. The zero
// Condition always holds.
type Condition struct {
	// IfNoneMatch: the key must have no current version.
	IfNoneMatch bool
	// IfMatch, when not empty: the key's current version must have one of
	// these ETags (unquoted), or any ETag for "*".
	IfMatch []string
}

// maxConditionETags bounds Condition.IfMatch.
const maxConditionETags = 16

// IsZero reports whether c always holds.
func (c Condition) IsZero() bool { return !c.IfNoneMatch && len(c.IfMatch) == 0 }

// PutObjectIf is PutObject (or, with data, PutObjectInline) under cond. Its
// result is ErrPreconditionFailed when the key's current version does not
// satisfy cond, and ErrNoSuchKey when cond has IfMatch and the key has no
// version; nothing changes then. A retry of a put that went through is nil.
func (n *Node) PutObjectIf(ctx context.Context, o Object, data []byte, cond Condition) error {
	if data != nil && n.cfg.Inline == nil {
		return fmt.Errorf("queue: %s/%s: inline data needs Config.Inline: %w", o.Bucket, o.Key, ErrInvalidCommand)
	}
	now := time.Now()
	if o.ModTime.IsZero() {
		o.ModTime = now
	}
	return n.propose(ctx, &command{Op: opObjectPut, Time: now, Bucket: o.Bucket, Key: o.Key, Object: o,
		Inline: data, Cond: cond})
}

// CompleteUploadIf is CompleteUpload under cond, with PutObjectIf's results.
// When cond fails the upload stays as it was.
func (n *Node) CompleteUploadIf(ctx context.Context, uploadID string, o Object, cond Condition) error {
	now := time.Now()
	if o.ModTime.IsZero() {
		o.ModTime = now
	}
	return n.propose(ctx, &command{Op: opUploadComplete, Time: now, Bucket: o.Bucket, Key: o.Key, ID: uploadID,
		Object: o, Cond: cond})
}

// check evaluates c against the key's current version (exists: there is one;
// etag: its ETag). The result is a command result, never a failure.
func (c Condition) check(exists bool, etag string) error {
	if c.IfNoneMatch && exists {
		return ErrPreconditionFailed
	}
	if len(c.IfMatch) > 0 {
		if !exists {
			return ErrNoSuchKey
		}
		if !slices.Contains(c.IfMatch, "*") && !slices.Contains(c.IfMatch, etag) {
			return ErrPreconditionFailed
		}
	}
	return nil
}

func validateCondition(c *command, bad func(string, ...any) error) error {
	cond := &c.Cond
	if cond.IsZero() {
		return nil
	}
	if c.Op != opObjectPut && c.Op != opUploadComplete {
		return bad("a condition on a %s", c.Op)
	}
	if c.Restored {
		return bad("a condition on a restored put")
	}
	if cond.IfNoneMatch && len(cond.IfMatch) > 0 {
		return bad("both IfNoneMatch and IfMatch")
	}
	if len(cond.IfMatch) > maxConditionETags {
		return bad("%d ETags in IfMatch, more than %d", len(cond.IfMatch), maxConditionETags)
	}
	for _, e := range cond.IfMatch {
		if e == "" || len(e) > maxIDLen {
			return bad("IfMatch ETag must be 1-%d bytes", maxIDLen)
		}
	}
	return nil
}
