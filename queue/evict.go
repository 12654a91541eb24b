package queue

import "context"

// EvictObjects journals each object's version (o.Bucket, o.Key, o.VersionID;
// the rest of o is ignored) as remote-only, the state a metadata-only
// restore creates: its index entry keeps everything clients see, names no
// blob any more, and the store's collector frees the blobs nothing else
// references. The state machine checks, when it applies the command, that
// the version is still current and is verified offsite (its upload was
// confirmed and no put job of it waits), so a version written or requeued
// meanwhile is never evicted. One result per object: nil when it is
// remote-only now (or was already), ErrNoSuchKey when the version is no
// longer current, ErrNotOffsite when it is not verified on the remote.
func (n *Node) EvictObjects(ctx context.Context, objs []Object) []error {
	return n.proposeVersions(ctx, opObjectEvict, objs)
}

// objectEvict makes the current version c.ID remote-only if it is offsite.
// Applying it twice changes nothing more.
func (a *applier) objectEvict(c *command) (error, error) {
	v, h, err := a.currentVersion(c.Bucket, c.Key, c.ID)
	if err == ErrNoSuchKey {
		return err, nil
	}
	if err != nil {
		return nil, err
	}
	if h.remoteOnly {
		return nil, nil
	}
	if a.ids.Get([]byte(c.ID)) != nil {
		return ErrNotOffsite, nil // its upload waits
	}
	var o Object
	if err := decodeObject(v, &o); err != nil {
		return nil, err
	}
	if !o.Replicated() || (o.Replica.Size != 0 && o.Replica.Size != o.Size) {
		return ErrNotOffsite, nil
	}
	o.RemoteOnly, o.Blob = true, ""
	for i := range o.Parts {
		o.Parts[i].Blob = ""
	}
	ob := a.objects.Bucket([]byte(c.Bucket))
	ob.FillPercent = objectsFillPercent
	return nil, ob.Put([]byte(c.Key), encodeObject(&o))
}
