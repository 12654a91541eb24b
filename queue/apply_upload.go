package queue

import (
	"bytes"
	"fmt"
)

// uploadCreate starts a multipart upload; creating an existing ID is a retry.
func (a *applier) uploadCreate(c *command) (error, error) {
	if a.buckets.Get([]byte(c.Bucket)) == nil {
		return ErrNoSuchBucket, nil
	}
	id := []byte(c.ID)
	if a.uploads.Get(id) != nil {
		return nil, nil
	}
	u := c.Upload
	u.Bucket, u.Key = c.Bucket, c.Key
	if u.Created.IsZero() {
		u.Created = c.Time
	}
	if err := a.uploads.Put(id, encodeUpload(&u)); err != nil {
		return nil, err
	}
	return nil, a.upKeys.Put(upKeysKey(c.Bucket, c.Key, c.ID), id)
}

// uploadPart adds or replaces a part; MarkReferenced reports its blob while
// the part is listed.
func (a *applier) uploadPart(c *command) (error, error) {
	if a.uploads.Get([]byte(c.ID)) == nil {
		return ErrNoSuchUpload, nil
	}
	p := &c.UploadPart
	k := upPartKey(c.ID, p.Number)
	v := encodeUploadPart(p, false)
	if old := a.upParts.Get(k); old != nil {
		if bytes.Equal(old, v) {
			return nil, nil // a retry
		}
	}
	if err := a.upParts.Put(k, v); err != nil {
		return nil, err
	}
	return nil, nil
}

func (a *applier) uploadAbort(id string) (error, error) {
	v := a.uploads.Get([]byte(id))
	if v == nil {
		return ErrNoSuchUpload, nil
	}
	return nil, a.removeUpload(id, v)
}

// uploadComplete makes the object current and removes the upload in one
// step. The object takes its own references on its part blobs, so parts not
// chosen lose their last one with the upload.
func (a *applier) uploadComplete(c *command) (error, error) {
	v := a.uploads.Get([]byte(c.ID))
	if v == nil {
		if a.completed(c) {
			return nil, nil // a retry of a completion that went through
		}
		return ErrNoSuchUpload, nil
	}
	var u Upload
	if err := decodeUpload(v, &u); err != nil {
		return nil, err
	}
	if u.Bucket != c.Bucket || u.Key != c.Key {
		return fmt.Errorf("%w: %s: upload %s is for %s/%s, not %s/%s", ErrInvalidCommand, c.Op, c.ID,
			u.Bucket, u.Key, c.Bucket, c.Key), nil
	}
	res, err := a.objectPut(c)
	if res != nil || err != nil {
		return res, err
	}
	return nil, a.removeUpload(c.ID, a.uploads.Get([]byte(c.ID)))
}

// completed reports whether c's version was made current, or is still
// waiting for replication after a newer one replaced it.
func (a *applier) completed(c *command) bool {
	if a.ids.Get([]byte(c.Object.VersionID)) != nil {
		return true
	}
	ob := a.objects.Bucket([]byte(c.Bucket))
	if ob == nil {
		return false
	}
	v := ob.Get([]byte(c.Key))
	if v == nil {
		return false
	}
	var h objectHead
	return h.decode(v) == nil && h.versionID == c.Object.VersionID
}

// removeUpload deletes upload id (whose record is v) and its parts.
func (a *applier) removeUpload(id string, v []byte) error {
	var u Upload
	if err := decodeUpload(v, &u); err != nil {
		return err
	}
	prefix := upPartsPrefix(id)
	var keys [][]byte
	c := a.upParts.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := a.upParts.Delete(k); err != nil {
			return err
		}
	}
	if err := a.upKeys.Delete(upKeysKey(u.Bucket, u.Key, id)); err != nil {
		return err
	}
	return a.uploads.Delete([]byte(id))
}

// abortBucketUploads removes every upload of bucket.
func (a *applier) abortBucketUploads(bucket string) error {
	prefix := escapeKey(nil, bucket)
	var ids []string
	c := a.upKeys.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		ids = append(ids, string(v))
	}
	for _, id := range ids {
		v := a.uploads.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("upload %s: %w: listed in upkeys, missing from uploads", id, errCorrupt)
		}
		if err := a.removeUpload(id, v); err != nil {
			return err
		}
	}
	return nil
}
