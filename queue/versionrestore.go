package queue

import "context"

// Restoring versions (gateway restore of a versioned bucket). A restored put
// (PutRestoredObject) makes a version current; a restored version
// (PutRestoredVersions) files a noncurrent version or a delete marker among
// the key's versions, recorded as replicated and with no job. Versions are
// downloaded in parallel and journaled in any order, so a restored version
// is not placed by the journal's order, as a put is, but by its ModTime:
// its place in the versions bucket is its ModTime in nanoseconds, and the
// version sequence moves past it, so that every version put after the
// restore is newer.

// Versionrepl's commands (60-62).
const (
	// opVersionRestore files a restored noncurrent version or delete
	// marker (versionrestore.go).
	opVersionRestore cmdOp = 60
)

var versionReplOpNames = map[cmdOp]string{opVersionRestore: "VersionRestore"}

// PutRestoredVersions files each of objs, downloaded from the remote (or
// only described by it: RemoteOnly), as a noncurrent version of its key, or
// as a delete marker when DeleteMarker is set: recorded as replicated
// (Replica.At defaults to now), with no replication job. A version the key
// already has changes nothing, except that a remote-only one gets its bytes.
// One result per object.
func (n *Node) PutRestoredVersions(ctx context.Context, objs []Object) []error {
	return n.proposeRestored(ctx, opVersionRestore, "restore version", objs)
}

// validateRestoredVersion checks a VersionRestore: a delete marker names no
// bytes; any other version is checked as a put.
func validateRestoredVersion(c *command, bad func(string, ...any) error) error {
	o := &c.Object
	if !c.Restored {
		return bad("only a restore files a version")
	}
	if o.ModTime.IsZero() {
		return bad("a restored version needs its time")
	}
	if o.DeleteMarker {
		if o.VersionID == "" || len(o.VersionID) > maxIDLen {
			return bad("version ID must be 1-%d bytes", maxIDLen)
		}
		if o.Blob != "" || len(o.Parts) > 0 || o.Size != 0 {
			return bad("a delete marker has no bytes")
		}
		return nil
	}
	return validateObject(o, bad)
}

// versionRestore applies a VersionRestore (PutRestoredVersions).
func (a *applier) versionRestore(c *command) (error, error) {
	ob := a.objects.Bucket([]byte(c.Bucket))
	if ob == nil {
		return ErrNoSuchBucket, nil
	}
	o := &c.Object
	if cur := ob.Get([]byte(c.Key)); cur != nil {
		var h objectHead
		if err := h.decode(cur); err != nil {
			return nil, err
		}
		if h.versionID == o.VersionID {
			return nil, nil // it is the current version
		}
	}
	vb, err := a.keyVersions(c.Bucket)
	if err != nil {
		return nil, err
	}
	raw := c.objectRaw
	if raw == nil {
		raw = encodeObject(o)
	}
	var found []byte
	var old objectHead
	err = eachVersion(vb, c.Key, func(k, v []byte) (bool, error) {
		if err := old.decode(v); err != nil {
			return false, err
		}
		if old.versionID == o.VersionID {
			found = append([]byte(nil), k...)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if found != nil {
		if old.remoteOnly && !o.RemoteOnly {
			return nil, vb.Put(found, raw) // its bytes came back
		}
		return nil, nil
	}
	seq := uint64(max(o.ModTime.UnixNano(), 1))
	for vb.Get(versionKey(c.Key, seq)) != nil {
		seq--
	}
	a.verSeq = max(a.verSeq, seq)
	a.nVersions++
	a.nVerBytes += o.Size
	return nil, vb.Put(versionKey(c.Key, seq), raw)
}
