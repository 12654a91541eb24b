package restore

import (
	"errors"
	"fmt"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
)

// The versions of versioned buckets. The snapshot lists, after each key's
// current object, its noncurrent versions and delete markers (format 2);
// the remote listing does not show them (they are under the versions
// directory, or versions of a remote bucket with versioning), so they are
// planned from the snapshot alone, read from where replication put them
// (remoteindex.Object.RemoteName, Remote.VersionID) and journaled as
// versions (PutRestoredVersions), in the order of their times.

// versions plans the versions the snapshot has read past.
func (p *planner) versions() error {
	s := p.snap
	if s == nil {
		return nil
	}
	for len(s.versions) > 0 {
		o := s.versions[0]
		s.versions = s.versions[1:]
		if err := p.version(&o); err != nil {
			return err
		}
	}
	s.versions = nil
	return nil
}

// version plans one noncurrent version or delete marker unless it cannot
// or need not be restored.
func (p *planner) version(o *remoteindex.Object) error {
	name := o.Name()
	if !p.r.opts.selects(name) {
		return nil
	}
	what := name + " version " + o.S3VersionID()
	local, err := p.r.index.ObjectVersion(o.Bucket, o.Key, o.S3VersionID())
	switch {
	case err == nil && (!local.RemoteOnly || p.r.opts.MetadataOnly):
		p.r.skip(what, o.Size, "already in the archive", "")
		return nil
	case err != nil && !errors.Is(err, queue.ErrNoSuchVersion) && !errors.Is(err, queue.ErrNoSuchKey) && !errors.Is(err, queue.ErrNoSuchBucket):
		return fmt.Errorf("restore: %s: %w", what, err)
	}
	if o.DeleteMarker {
		return p.plan.add(o)
	}
	switch {
	case o.Remote.At.IsZero():
		p.r.skip(what, o.Size, "a noncurrent version that was not on the remote when the remote index was taken",
			"nothing to restore from this remote; look for another copy")
		return nil
	case p.r.opts.MetadataOnly:
		// Read-through reads the plain copy, which holds another version.
		p.r.skip(what, o.Size, "a noncurrent version is not restored with --metadata-only",
			"run restore --merge to fetch the noncurrent versions")
		return nil
	}
	if o.RemoteName() != o.Name() {
		// Its copy under the versions directory: the ETag journaled may be
		// the plain copy's, made from it server-side; the SHA-256 checks
		// the bytes.
		o.Remote.ETag = ""
	}
	return p.plan.add(o)
}

// partialName names o's partial download: each version of a key has its own.
func partialName(o *remoteindex.Object) string {
	if o.Version() {
		return o.Name() + "@" + o.S3VersionID()
	}
	return o.Name()
}
