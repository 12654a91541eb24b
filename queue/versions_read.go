package queue

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ObjectVersion is one entry of ListVersions: a version or a delete marker
// (Object.DeleteMarker), and whether it is its key's latest version.
type ObjectVersion struct {
	Object
	Latest bool
}

// ObjectVersion returns the version of bucket/key whose S3 version ID is
// versionID (NullVersionID for the null version), a delete marker
// included, and whether it is the key's latest version: ErrNoSuchVersion,
// ErrNoSuchBucket.
func (n *Node) ObjectVersion(bucket, key, versionID string) (ObjectVersion, error) {
	var out ObjectVersion
	err := n.fsm.view(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bktObjects).Bucket([]byte(bucket))
		if ob == nil {
			return ErrNoSuchBucket
		}
		current := ob.Get([]byte(key))
		if current != nil {
			var h objectHead
			if err := h.decode(current); err != nil {
				return err
			}
			if h.isVersion(versionID) {
				out = ObjectVersion{Object: Object{Bucket: bucket, Key: key}, Latest: true}
				return decodeObject(current, &out.Object)
			}
		}
		first, found := true, false
		err := eachVersion(tx.Bucket(bktVersions).Bucket([]byte(bucket)), key, func(_, v []byte) (bool, error) {
			var h objectHead
			if err := h.decode(v); err != nil {
				return false, err
			}
			if !h.isVersion(versionID) {
				first = false
				return true, nil
			}
			found = true
			out = ObjectVersion{Object: Object{Bucket: bucket, Key: key}, Latest: first && current == nil}
			return false, decodeObject(v, &out.Object)
		})
		if err == nil && !found {
			err = ErrNoSuchVersion
		}
		return err
	})
	if err != nil {
		return ObjectVersion{}, fmt.Errorf("queue: object %s/%s version %s: %w", bucket, key, versionID, err)
	}
	return out, nil
}

// LatestVersion returns the latest version of bucket/key: the current one,
// or the delete marker that hides it. ErrNoSuchKey when the key has no
// version at all, or only noncurrent ones.
func (n *Node) LatestVersion(bucket, key string) (Object, error) {
	o := Object{Bucket: bucket, Key: key}
	err := n.fsm.view(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bktObjects).Bucket([]byte(bucket))
		if ob == nil {
			return ErrNoSuchBucket
		}
		if v := ob.Get([]byte(key)); v != nil {
			return decodeObject(v, &o)
		}
		found := false
		err := eachVersion(tx.Bucket(bktVersions).Bucket([]byte(bucket)), key, func(_, v []byte) (bool, error) {
			found = true
			return false, decodeObject(v, &o)
		})
		if err == nil && (!found || !o.DeleteMarker) {
			err = ErrNoSuchKey
		}
		return err
	})
	if err != nil {
		return Object{}, fmt.Errorf("queue: latest version of %s/%s: %w", bucket, key, err)
	}
	return o, nil
}

// ListVersions returns up to limit versions and delete markers of bucket
// whose keys start with prefix, by key and then newest first, as S3's
// ListObjectVersions orders them, and whether more follow. The page starts
// after keyMarker's version versionMarker (an S3 version ID), or after
// every version of keyMarker when versionMarker is "" or not one of them.
// Each page is two cursor seeks, so paging through a large bucket stays
// cheap.
func (n *Node) ListVersions(bucket, prefix, keyMarker, versionMarker string, limit int) ([]ObjectVersion, bool, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	var out []ObjectVersion
	truncated := false
	err := n.fsm.view(func(tx *bolt.Tx) error {
		var err error
		out, truncated, err = listVersions(tx, bucket, prefix, keyMarker, versionMarker, limit)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("queue: list versions of %s: %w", bucket, err)
	}
	return out, truncated, nil
}

// versionLister merges the current versions (objects) with the others
// (versions): for each key its current version comes first.
type versionLister struct {
	oc, vc       *bolt.Cursor
	ok, ov       []byte // next current version
	vk, vv       []byte // next noncurrent version or delete marker
	pre, vpre    []byte
	lastCurrent  string // key of the last current version passed
	lastVersions string // key of the last entry of versions passed
}

func listVersions(tx *bolt.Tx, bucket, prefix, keyMarker, versionMarker string, limit int) ([]ObjectVersion, bool, error) {
	ob := tx.Bucket(bktObjects).Bucket([]byte(bucket))
	if ob == nil {
		return nil, false, ErrNoSuchBucket
	}
	l := versionLister{oc: ob.Cursor(), pre: []byte(prefix), vpre: escapePrefix(nil, prefix)}
	if vb := tx.Bucket(bktVersions).Bucket([]byte(bucket)); vb != nil {
		l.vc = vb.Cursor()
	}
	if err := l.seek(ob, prefix, keyMarker, versionMarker); err != nil {
		return nil, false, err
	}
	var out []ObjectVersion
	for {
		if l.ok != nil && !bytes.HasPrefix(l.ok, l.pre) {
			l.ok = nil
		}
		if l.vk != nil && !bytes.HasPrefix(l.vk, l.vpre) {
			l.vk = nil
		}
		if l.ok == nil && l.vk == nil {
			return out, false, nil
		}
		if len(out) == limit {
			return out, true, nil
		}
		vkey := ""
		if l.vk != nil {
			vkey = versionKeyName(l.vk)
		}
		var e ObjectVersion
		if l.ok != nil && (l.vk == nil || string(l.ok) <= vkey) {
			e = ObjectVersion{Object: Object{Bucket: bucket, Key: string(l.ok)}, Latest: true}
			if err := decodeObject(l.ov, &e.Object); err != nil {
				return nil, false, fmt.Errorf("key %s: %w", l.ok, err)
			}
			l.lastCurrent = e.Key
			l.ok, l.ov = l.oc.Next()
		} else {
			e = ObjectVersion{Object: Object{Bucket: bucket, Key: vkey},
				Latest: vkey != l.lastVersions && vkey != l.lastCurrent}
			if err := decodeObject(l.vv, &e.Object); err != nil {
				return nil, false, fmt.Errorf("key %s: %w", vkey, err)
			}
			l.lastVersions = vkey
			l.vk, l.vv = l.vc.Next()
		}
		out = append(out, e)
	}
}

// seek places both cursors at the first entry after the markers.
func (l *versionLister) seek(ob *bolt.Bucket, prefix, keyMarker, versionMarker string) error {
	if keyMarker < prefix {
		l.ok, l.ov = l.oc.Seek(l.pre)
		if l.vc != nil {
			l.vk, l.vv = l.vc.Seek(l.vpre)
		}
		return nil
	}
	// The current versions after keyMarker.
	l.ok, l.ov = l.oc.Seek([]byte(keyMarker))
	if l.ok != nil && string(l.ok) == keyMarker {
		l.ok, l.ov = l.oc.Next()
	}
	if l.vc == nil {
		return nil
	}
	pre := escapeKey(nil, keyMarker)
	after := append(bytes.Clone(pre), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
	if versionMarker == "" {
		l.vk, l.vv = l.vc.Seek(after)
		return nil
	}
	if v := ob.Get([]byte(keyMarker)); v != nil {
		var h objectHead
		if err := h.decode(v); err != nil {
			return err
		}
		if h.isVersion(versionMarker) {
			// Listed up to the current version: the rest of the key follows.
			l.lastCurrent = keyMarker
			l.vk, l.vv = l.vc.Seek(pre)
			return nil
		}
	}
	for k, v := l.vc.Seek(pre); k != nil && bytes.HasPrefix(k, pre) && len(k) == len(pre)+8; k, v = l.vc.Next() {
		var h objectHead
		if err := h.decode(v); err != nil {
			return err
		}
		if h.isVersion(versionMarker) {
			l.lastVersions = keyMarker
			l.vk, l.vv = l.vc.Next()
			return nil
		}
	}
	l.vk, l.vv = l.vc.Seek(after)
	return nil
}

// NoncurrentBytes returns the size of bucket's noncurrent versions, which
// count against a quota as S3 bills them.
func (n *Node) NoncurrentBytes(bucket string) (int64, error) {
	var total int64
	err := n.fsm.view(func(tx *bolt.Tx) error {
		vb := tx.Bucket(bktVersions).Bucket([]byte(bucket))
		if vb == nil {
			return nil
		}
		return vb.ForEach(func(k, v []byte) error {
			var h objectHead
			if err := h.decode(v); err != nil {
				return fmt.Errorf("version of %s: %w", versionKeyName(k), err)
			}
			total += h.size
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("queue: noncurrent bytes of %s: %w", bucket, err)
	}
	return total, nil
}
