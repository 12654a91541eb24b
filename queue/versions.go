package queue

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket versioning. A bucket's versioning state is its SettingVersioning
// (absent: never enabled; a bucket never goes back to that). The objects
// bucket keeps the current version of each key that is not a delete marker,
// as in an unversioned bucket, so that GET, PUT and listings cost what they
// cost without versioning. The versions bucket keeps everything else: the
// noncurrent versions and the delete markers, including one that is a key's
// latest version (the key then has no entry in objects). Its keys are
// esc(key) followed by the inverted version sequence, a counter in meta
// that the state machine advances, so a key's versions list newest first in
// the journal's order, whoever wrote them.
//
// A put in an Enabled bucket moves the current version to versions. A put
// in a Suspended bucket makes the null version and removes the previous
// null one wherever it is; in a bucket that never had versioning it
// replaces the current version, as it always did. Only versions put in an
// Enabled bucket are marked (Object.Versioned): every other one, including
// those written before versioning existed, is its key's null version. A DELETE without a version in a
// versioned bucket adds a delete marker; ObjectDeleteVersion removes one
// version for good, and when that was the latest the next newest becomes
// current again.

// SettingVersioning is the bucket setting that holds its versioning state.
const SettingVersioning = "versioning"

// Versioning states, as S3 names them.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// versionKey is the versions key of one version of key.
func versionKey(key string, seq uint64) []byte {
	k := escapeKey(make([]byte, 0, len(key)+10), key)
	return binary.BigEndian.AppendUint64(k, ^seq)
}

// versionKeyName returns the object key a versions key belongs to.
func versionKeyName(k []byte) string {
	if len(k) < 8 {
		return ""
	}
	return unescapeKey(k[:len(k)-8])
}

// unescapeKey undoes escapeKey.
func unescapeKey(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == 0 {
			if i+1 < len(b) && b[i+1] == 0xFF {
				out = append(out, 0)
				i++
				continue
			}
			break
		}
		out = append(out, b[i])
	}
	return string(out)
}

// withVersioned returns the object record raw marked as put while
// versioning was Enabled.
func withVersioned(raw []byte) []byte {
	e := encoder{b: append(make([]byte, 0, len(raw)+2), raw...)}
	e.uint(objVersioned, 1)
	return e.b
}

// versioning returns bucket's versioning state, remembered for the entry.
func (a *applier) versioning(bucket string) (string, error) {
	if s, ok := a.vstate[bucket]; ok {
		return s, nil
	}
	s := ""
	if v := a.buckets.Get([]byte(bucket)); v != nil {
		b, err := decodeBucket(bucket, v)
		if err != nil {
			return "", err
		}
		s = b.Settings[SettingVersioning]
	}
	if a.vstate == nil {
		a.vstate = make(map[string]string)
	}
	a.vstate[bucket] = s
	return s, nil
}

// keyVersions returns the versions bucket of bucket, creating it; the
// handle is kept for the entry's other commands.
func (a *applier) keyVersions(bucket string) (*bolt.Bucket, error) {
	if vb, ok := a.vbuckets[bucket]; ok {
		return vb, nil
	}
	vb, err := a.tx.Bucket(bktVersions).CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return nil, err
	}
	// Keys mostly arrive in order (a batch of deletes, a sync), as in objects.
	vb.FillPercent = objectsFillPercent
	if a.vbuckets == nil {
		a.vbuckets = make(map[string]*bolt.Bucket)
	}
	a.vbuckets[bucket] = vb
	return vb, nil
}

// pushVersion stores raw as the newest of key's versions in vb.
func (a *applier) pushVersion(vb *bolt.Bucket, key string, raw []byte, size int64) error {
	a.verSeq++
	a.nVersions++
	a.nVerBytes += size
	return vb.Put(versionKey(key, a.verSeq), raw)
}

// eachVersion calls fn with key's versions in vb, newest first, until fn
// returns false. k and v are valid until vb is changed.
func eachVersion(vb *bolt.Bucket, key string, fn func(k, v []byte) (bool, error)) error {
	if vb == nil {
		return nil
	}
	pre := escapeKey(make([]byte, 0, len(key)+2), key)
	c := vb.Cursor()
	for k, v := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre) && len(k) == len(pre)+8; k, v = c.Next() {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// dropVersion removes the first of key's versions in vb that match, if
// any, and returns its head.
func (a *applier) dropVersion(vb *bolt.Bucket, key string, match func(h *objectHead) bool) (objectHead, bool, error) {
	var found []byte
	var h objectHead
	err := eachVersion(vb, key, func(k, v []byte) (bool, error) {
		h = objectHead{}
		if err := h.decode(v); err != nil {
			return false, err
		}
		if match(&h) {
			found = bytes.Clone(k)
			return false, nil
		}
		return true, nil
	})
	if err != nil || found == nil {
		return objectHead{}, false, err
	}
	a.nVersions--
	a.nVerBytes -= h.size
	return h, true, vb.Delete(found)
}

func isNull(h *objectHead) bool { return !h.versioned }

// keepReplaced files the current version old (stored as raw) that a put or
// a delete replaces, as the bucket's versioning state says: kept as a
// noncurrent version unless it is the null version of a Suspended bucket.
// Suspended, it also drops the noncurrent null version: the new version is
// the null one. Unversioned buckets keep nothing.
func (a *applier) keepReplaced(bucket, key, state string, raw []byte, old *objectHead) error {
	if state == "" {
		return nil
	}
	vb, err := a.keyVersions(bucket)
	if err != nil {
		return err
	}
	if raw != nil && (state == VersioningEnabled || old.versioned) {
		if err := a.pushVersion(vb, key, bytes.Clone(raw), old.size); err != nil {
			return err
		}
	}
	if state == VersioningSuspended {
		_, _, err = a.dropVersion(vb, key, isNull)
	}
	return err
}

// addDeleteMarker applies a DELETE without a version in a versioned
// bucket: the current version, if any, becomes noncurrent (or goes, if it
// is the null version of a Suspended bucket) and a delete marker with
// version ID c.ID becomes the latest version.
func (a *applier) addDeleteMarker(c *command, ob *bolt.Bucket, state string) (error, error) {
	if a.ids.Get([]byte(c.ID)) != nil {
		return nil, nil // a retry whose job waits
	}
	vb, err := a.keyVersions(c.Bucket)
	if err != nil {
		return nil, err
	}
	retry := false
	err = eachVersion(vb, c.Key, func(_, v []byte) (bool, error) {
		var h objectHead
		err := h.decode(v)
		retry = err == nil && h.versionID == c.ID
		return false, err
	})
	if err != nil || retry {
		return nil, err
	}
	key := []byte(c.Key)
	var old objectHead
	raw := ob.Get(key)
	if raw != nil {
		if err := old.decode(raw); err != nil {
			return nil, err
		}
		raw = bytes.Clone(raw)
		if err := ob.Delete(key); err != nil {
			return nil, err
		}
		a.nObjects--
		a.nBytes -= old.size
	}
	if err := a.keepReplaced(c.Bucket, c.Key, state, raw, &old); err != nil {
		return nil, err
	}
	marker := Object{VersionID: c.ID, ModTime: c.Time, DeleteMarker: true, Versioned: state == VersioningEnabled}
	if err := a.pushVersion(vb, c.Key, encodeObject(&marker), 0); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, nil // nothing was visible: nothing to delete remotely
	}
	return nil, a.addJob(&Job{
		ID: c.ID, Op: JobDelete, Bucket: c.Bucket, Key: c.Key, VersionID: old.versionID,
		Created: c.Time,
	}, nil)
}

// DeleteObjectVersion removes the version of bucket/key whose S3 version ID
// is versionID (NullVersionID for the null version) for good: a noncurrent
// version, a delete marker or the current version. When it was the key's
// latest version, the next newest becomes the latest (current again, unless
// it is a delete marker). It queues no replication job: what the remote
// keeps is the replication policy's business. ErrNoSuchVersion when the key
// has no such version (nothing changed), ErrNoSuchBucket.
func (n *Node) DeleteObjectVersion(ctx context.Context, bucket, key, versionID string) error {
	return n.propose(ctx, &command{Op: opObjectDeleteVersion, Time: time.Now(), Bucket: bucket, Key: key, ID: versionID})
}

func (a *applier) objectDeleteVersion(c *command) (error, error) {
	ob := a.objects.Bucket([]byte(c.Bucket))
	if ob == nil {
		return ErrNoSuchBucket, nil
	}
	key := []byte(c.Key)
	current := ob.Get(key)
	if current != nil {
		var h objectHead
		if err := h.decode(current); err != nil {
			return nil, err
		}
		if h.isVersion(c.ID) {
			if err := ob.Delete(key); err != nil {
				return nil, err
			}
			a.nObjects--
			a.nBytes -= h.size
			return nil, a.promote(c.Bucket, c.Key, ob)
		}
	}
	vb := a.tx.Bucket(bktVersions).Bucket([]byte(c.Bucket))
	first, wasFirst := true, false
	_, found, err := a.dropVersion(vb, c.Key, func(h *objectHead) bool {
		wasFirst = first
		first = false
		return h.isVersion(c.ID)
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return ErrNoSuchVersion, nil
	}
	if wasFirst && current == nil {
		return nil, a.promote(c.Bucket, c.Key, ob)
	}
	return nil, nil
}

// promote makes key's newest noncurrent version current, once its latest
// version is gone; a delete marker stays where it is, as the latest.
func (a *applier) promote(bucket, key string, ob *bolt.Bucket) error {
	vb := a.tx.Bucket(bktVersions).Bucket([]byte(bucket))
	var k, v []byte
	var h objectHead
	err := eachVersion(vb, key, func(vk, vv []byte) (bool, error) {
		k, v = bytes.Clone(vk), bytes.Clone(vv)
		return false, h.decode(vv)
	})
	if err != nil || k == nil || h.deleteMarker {
		return err
	}
	if err := vb.Delete(k); err != nil {
		return err
	}
	a.nVersions--
	a.nVerBytes -= h.size
	ob.FillPercent = objectsFillPercent
	if err := ob.Put([]byte(key), v); err != nil {
		return err
	}
	a.nObjects++
	a.nBytes += h.size
	return nil
}

// replicatedNoncurrent records r in the noncurrent version id of key, if
// there is one.
func (a *applier) replicatedNoncurrent(bucket, key, id string, r Replica) error {
	vb := a.tx.Bucket(bktVersions).Bucket([]byte(bucket))
	var k, v []byte
	err := eachVersion(vb, key, func(vk, vv []byte) (bool, error) {
		var h objectHead
		if err := h.decode(vv); err != nil {
			return false, err
		}
		if h.versionID != id {
			return true, nil
		}
		k, v = bytes.Clone(vk), vv
		return false, nil
	})
	if err != nil || k == nil {
		return err
	}
	rec, err := withReplica(v, r)
	if err != nil {
		return err
	}
	return vb.Put(k, rec)
}
