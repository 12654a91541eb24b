package queue

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Multipart uploads. An upload and its parts live in fsm.db like everything
// else (so they survive restarts and are in snapshots); each part holds a
// reference on its blob until the upload is completed or aborted, which is
// how the store's collector knows to keep it.

// CreateUpload starts the multipart upload u (u.ID chosen by the caller, so
// that a retry is recognised: creating an existing ID changes nothing).
// u.Parts is ignored; u.Created defaults to now. ErrNoSuchBucket.
func (n *Node) CreateUpload(ctx context.Context, u Upload) error {
	now := time.Now()
	if u.Created.IsZero() {
		u.Created = now
	}
	return n.propose(ctx, &command{Op: opUploadCreate, Time: now, Bucket: u.Bucket, Key: u.Key, ID: u.ID,
		Upload: Upload{Created: u.Created, ContentType: u.ContentType, Metadata: u.Metadata, ChecksumAlgorithm: u.ChecksumAlgorithm,
			ChecksumType: u.ChecksumType}})
}

// PutUploadPart records part p of an upload, replacing (and unreferencing
// the blob of) an earlier part with the same number. p.Blob gains a
// reference, so the caller may unpin it once this returns. p.ModTime
// defaults to now. ErrNoSuchUpload.
func (n *Node) PutUploadPart(ctx context.Context, uploadID string, p UploadPart) error {
	now := time.Now()
	if p.ModTime.IsZero() {
		p.ModTime = now
	}
	return n.propose(ctx, &command{Op: opUploadPart, Time: now, ID: uploadID, UploadPart: p})
}

// AbortUpload removes an upload and drops its parts' references.
// ErrNoSuchUpload.
func (n *Node) AbortUpload(ctx context.Context, uploadID string) error {
	return n.propose(ctx, &command{Op: opUploadAbort, Time: time.Now(), ID: uploadID})
}

// CompleteUpload removes the upload and makes o current, atomically, as
// PutObject would (with its replication job). o is normally composite:
// o.Parts lists the chosen parts' blobs in order, and each occurrence takes
// its own reference, so part blobs not chosen lose theirs with the upload.
// o.Bucket and o.Key must be the upload's (ErrInvalidCommand otherwise).
//
// ErrNoSuchUpload, except for a retry of a completion that went through:
// when the upload is gone but o.VersionID is the current version of its key
// (or still has its replication job pending), the result is nil.
func (n *Node) CompleteUpload(ctx context.Context, uploadID string, o Object) error {
	now := time.Now()
	if o.ModTime.IsZero() {
		o.ModTime = now
	}
	return n.propose(ctx, &command{Op: opUploadComplete, Time: now, Bucket: o.Bucket, Key: o.Key, ID: uploadID, Object: o})
}

// Upload returns an upload with its parts, sorted by number.
// ErrNoSuchUpload.
func (n *Node) Upload(id string) (Upload, error) {
	u, _, err := n.UploadPage(id, 0, -1)
	return u, err
}

// UploadPage returns an upload with at most limit of its parts, those
// numbered above afterPart, and whether more follow: a ListParts page, or
// (limit 0) the upload alone, whose cost does not grow with its parts. A
// negative limit returns every part after afterPart. ErrNoSuchUpload.
func (n *Node) UploadPage(id string, afterPart, limit int) (Upload, bool, error) {
	u := Upload{ID: id}
	truncated := false
	err := n.fsm.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktUploads).Get([]byte(id))
		if v == nil {
			return ErrNoSuchUpload
		}
		if err := decodeUpload(v, &u); err != nil {
			return err
		}
		if limit == 0 {
			return nil
		}
		prefix := upPartsPrefix(id)
		c := tx.Bucket(bktUpParts).Cursor()
		for k, v := c.Seek(upPartKey(id, max(afterPart, 0)+1)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if limit > 0 && len(u.Parts) == limit {
				truncated = true
				break
			}
			p := UploadPart{Number: partNumberOf(k[len(prefix):])}
			if err := decodeUploadPart(v, &p); err != nil {
				return fmt.Errorf("part %d: %w", p.Number, err)
			}
			u.Parts = append(u.Parts, p)
		}
		return nil
	})
	if err != nil {
		return Upload{}, false, fmt.Errorf("queue: upload %s: %w", id, err)
	}
	return u, truncated, nil
}

// ListUploads returns up to limit uploads of bucket whose keys start with
// prefix, without their parts, and whether more follow. They are ordered by
// key, then by upload ID: S3 orders uploads of one key by initiation time,
// but ID order lets a page start exactly after (keyMarker, uploadIDMarker)
// even when that upload has ended meanwhile. As in S3, uploadIDMarker counts
// only with keyMarker; keyMarker alone starts after every upload of that key.
// ErrNoSuchBucket.
func (n *Node) ListUploads(bucket, prefix, keyMarker, uploadIDMarker string, limit int) ([]Upload, bool, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	pre := escapePrefix(escapeKey(nil, bucket), prefix)
	seek, skip := pre, []byte(nil)
	if keyMarker != "" {
		m := escapeKey(escapeKey(nil, bucket), keyMarker)
		if uploadIDMarker != "" {
			m = append(m, uploadIDMarker...)
			skip = m
		} else {
			m[len(m)-1]++ // past the end mark: after every upload of keyMarker
		}
		if bytes.Compare(m, seek) > 0 {
			seek = m
		}
	}
	var out []Upload
	truncated := false
	err := n.fsm.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bktBuckets).Get([]byte(bucket)) == nil {
			return ErrNoSuchBucket
		}
		uploads := tx.Bucket(bktUploads)
		c := tx.Bucket(bktUpKeys).Cursor()
		for k, id := c.Seek(seek); k != nil && bytes.HasPrefix(k, pre); k, id = c.Next() {
			if skip != nil && bytes.Equal(k, skip) {
				continue
			}
			if len(out) == limit {
				truncated = true
				break
			}
			u := Upload{ID: string(id)}
			v := uploads.Get(id)
			if v == nil {
				return fmt.Errorf("upload %s: %w: listed in upkeys, missing from uploads", id, errCorrupt)
			}
			if err := decodeUpload(v, &u); err != nil {
				return fmt.Errorf("upload %s: %w", id, err)
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("queue: list uploads %s: %w", bucket, err)
	}
	return out, truncated, nil
}

// partNumberOf decodes the end of an upparts key.
func partNumberOf(k []byte) int {
	if len(k) != 4 {
		return 0
	}
	return int(binary.BigEndian.Uint32(k))
}
