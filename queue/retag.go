package queue

import (
	"bytes"
	"context"
	"time"
)

// SetVersionMetadata replaces the user metadata (its tags included) of the
// version of bucket/key whose S3 version ID is versionID, in place: unlike a
// put, it makes no new version, as S3's PutObjectTagging of a versioned
// object does not. When that version is current, a put job carries the
// change to the remote (one waiting for it starts over); a noncurrent
// version's remote copy keeps its metadata. ErrNoSuchVersion,
// ErrNoSuchBucket.
func (n *Node) SetVersionMetadata(ctx context.Context, bucket, key, versionID string, meta map[string]string) error {
	return n.propose(ctx, &command{Op: opObjectRetag, Time: time.Now(), Bucket: bucket, Key: key, ID: versionID,
		Object: Object{Metadata: meta}})
}

func (a *applier) objectRetag(c *command) (error, error) {
	ob := a.objects.Bucket([]byte(c.Bucket))
	if ob == nil {
		return ErrNoSuchBucket, nil
	}
	var meta Object
	if c.objectRaw != nil {
		if err := decodeObject(c.objectRaw, &meta); err != nil {
			return nil, err
		}
	} else {
		meta.Metadata = c.Object.Metadata
	}
	key := []byte(c.Key)
	if v := ob.Get(key); v != nil {
		var h objectHead
		if err := h.decode(v); err != nil {
			return nil, err
		}
		if h.isVersion(c.ID) {
			rec, o, err := retagged(v, meta.Metadata)
			if err != nil {
				return nil, err
			}
			ob.FillPercent = objectsFillPercent
			if err := ob.Put(key, rec); err != nil {
				return nil, err
			}
			if o.RemoteOnly {
				return nil, nil // nothing local to upload
			}
			if _, _, err := a.removeJob(o.VersionID); err != nil {
				return nil, err
			}
			return nil, a.addJob(&Job{ID: o.VersionID, Op: JobPut, Bucket: c.Bucket, Key: c.Key, VersionID: o.VersionID,
				Blob: o.Blob, Size: o.Size, Created: c.Time}, rec)
		}
	}
	vb := a.tx.Bucket(bktVersions).Bucket([]byte(c.Bucket))
	var found, old []byte
	err := eachVersion(vb, c.Key, func(k, v []byte) (bool, error) {
		var h objectHead
		if err := h.decode(v); err != nil {
			return false, err
		}
		if !h.isVersion(c.ID) {
			return true, nil
		}
		if h.deleteMarker {
			return false, nil // a delete marker has no metadata
		}
		found, old = bytes.Clone(k), bytes.Clone(v)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return ErrNoSuchVersion, nil
	}
	rec, _, err := retagged(old, meta.Metadata)
	if err != nil {
		return nil, err
	}
	return nil, vb.Put(found, rec)
}

// retagged returns the object record raw with meta as its metadata.
func retagged(raw []byte, meta map[string]string) ([]byte, Object, error) {
	var o Object
	if err := decodeObject(raw, &o); err != nil {
		return nil, o, err
	}
	o.Metadata = meta
	return encodeObject(&o), o, nil
}
