package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// expireBatch is how many uploads one pass of AbortUploadsBefore reads and
// aborts at a time, so that a backlog of abandoned uploads neither holds a
// read transaction long nor builds one huge raft entry.
const expireBatch = 256

// AbortUploadsBefore aborts every multipart upload created before cutoff,
// as S3's AbortIncompleteMultipartUpload lifecycle rule does: the uploads
// and their parts are gone, and the store's collector frees the parts'
// blobs. It returns the uploads it aborted. An upload completed or aborted
// meanwhile is not counted.
func (n *Node) AbortUploadsBefore(ctx context.Context, cutoff time.Time) ([]Upload, error) {
	if n.prop == nil {
		return nil, ErrClosed
	}
	var aborted []Upload
	after := ""
	for {
		page, next, err := n.uploadsBefore(cutoff, after, expireBatch)
		if err != nil {
			return aborted, err
		}
		for i, err := range n.AbortUploads(ctx, page) {
			switch {
			case err == nil:
				aborted = append(aborted, page[i])
			case errors.Is(err, ErrNoSuchUpload):
			default:
				return aborted, err
			}
		}
		if next == "" {
			return aborted, nil
		}
		after = next
	}
}

// AbortUploads aborts uploads together, their commands batched into as few
// raft entries as the proposer makes of them; one result per upload
// (ErrNoSuchUpload for one completed or aborted meanwhile).
func (n *Node) AbortUploads(ctx context.Context, uploads []Upload) []error {
	errs := make([]error, len(uploads))
	if n.prop == nil {
		for i := range errs {
			errs[i] = ErrClosed
		}
		return errs
	}
	cmds := make([]*command, len(uploads))
	for i, u := range uploads {
		cmds[i] = &command{Op: opUploadAbort, Time: time.Now(), ID: u.ID}
	}
	for i, err := range n.prop.proposeAll(ctx, cmds) {
		if err != nil {
			errs[i] = fmt.Errorf("queue: abort upload %s: %w", uploads[i].ID, err)
		}
	}
	return errs
}

// uploadsBefore returns up to limit uploads created before cutoff, without
// their parts, among those whose IDs follow after, and the ID to continue
// after ("" when every upload was looked at).
func (n *Node) uploadsBefore(cutoff time.Time, after string, limit int) ([]Upload, string, error) {
	var out []Upload
	next := ""
	err := n.fsm.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktUploads).Cursor()
		k, v := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
		for scanned := 0; k != nil; k, v = c.Next() {
			if scanned == 16*limit || len(out) == limit {
				break
			}
			scanned++
			next = string(k)
			u := Upload{ID: string(k)}
			if err := decodeUpload(v, &u); err != nil {
				return fmt.Errorf("upload %s: %w", k, err)
			}
			if u.Created.Before(cutoff) {
				out = append(out, u)
			}
		}
		if k == nil {
			next = ""
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("queue: list uploads: %w", err)
	}
	return out, next, nil
}
