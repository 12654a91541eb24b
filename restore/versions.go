package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
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
	skip := func(reason, fix string) {
		p.r.skipOutcome(Outcome{Name: name, Version: o.S3VersionID(), Size: o.Size, Reason: reason, Fix: fix})
	}
	local, err := p.r.index.ObjectVersion(o.Bucket, o.Key, o.S3VersionID())
	switch {
	case err == nil && (!local.RemoteOnly || p.r.opts.MetadataOnly):
		skip("already in the archive", "")
		return nil
	case err != nil && !errors.Is(err, queue.ErrNoSuchVersion) && !errors.Is(err, queue.ErrNoSuchKey) && !errors.Is(err, queue.ErrNoSuchBucket):
		return fmt.Errorf("restore: %s version %s: %w", name, o.S3VersionID(), err)
	}
	if o.DeleteMarker {
		return p.plan.add(o)
	}
	switch {
	case o.Remote.At.IsZero():
		skip("a noncurrent version that was not on the remote when the remote index was taken",
			"nothing to restore from this remote; look for another copy")
		return nil
	case p.r.opts.MetadataOnly:
		// Read-through reads the plain copy, which holds another version.
		skip("a noncurrent version is not restored with --metadata-only",
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

// keptVersions plans, without the remote index, the noncurrent versions
// the remote keeps (VersionLister): each is HEADed for its metadata, and
// planned unless it is the current version already planned from the plain
// copy. A version whose metadata names no version (an older copy of an
// object of an unversioned bucket, on a remote with versioning) is skipped.
// Delete markers are not on the remote: keys deleted on the Pi come back.
func (p *planner) keptVersions(ctx context.Context) error {
	vl, ok := p.r.remote.(VersionLister)
	if !ok || p.r.opts.MetadataOnly {
		return nil
	}
	planned := map[string]bool{}
	return vl.ListKeptVersions(ctx, p.r.opts.listPrefix(), func(page []replication.ListedVersion) error {
		for _, lv := range page {
			name, inDir := lv.Name, false
			if b, k, _, ok := replication.ParseVersionName(lv.Name); ok {
				name, inDir = b+"/"+k, true
			}
			if !p.r.opts.selects(name) {
				continue
			}
			p.nHead.Add(1)
			l, o, err := vl.HeadVersion(ctx, lv.Name, lv.VersionID)
			switch {
			case fatal(err):
				return err
			case err != nil:
				p.r.fail(Outcome{Name: lv.Name, Size: lv.Size, Reason: fmt.Sprintf("HEAD: %v", err), Fix: fixRetry})
				continue
			case o.SHA256 == "" || (!o.Versioned && !inDir):
				continue // not a version IPAS kept
			}
			id := name + "@" + o.S3VersionID()
			if planned[id] || p.isCurrent(name, o.VersionID) {
				continue
			}
			planned[id] = true
			o.Noncurrent = true
			o.Remote = remoteindex.Replica{ETag: l.ETag, Size: l.Size, At: l.LastModified, VersionID: lv.VersionID}
			p.r.foundVersion(o.Bucket)
			if err := p.version(&o); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

// current records the version ID of a current object planned from a HEAD,
// so that keptVersions does not plan it twice.
func (p *planner) current(o *remoteindex.Object) {
	if !o.Versioned {
		return
	}
	p.r.foundVersion(o.Bucket)
	p.errMu.Lock()
	if p.currents == nil {
		p.currents = map[string]string{}
	}
	p.currents[o.Name()] = o.VersionID
	p.errMu.Unlock()
}

func (p *planner) isCurrent(name, versionID string) bool {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return versionID != "" && p.currents[name] == versionID
}

// foundVersion records that bucket has versions although no snapshot said
// so: it is restored with versioning Enabled.
func (r *Restorer) foundVersion(bucket string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.versioned == nil {
		r.versioned = map[string]bool{}
	}
	if !r.versioned[bucket] {
		r.versioned[bucket] = true
		r.res.VersionedBuckets = append(r.res.VersionedBuckets, bucket)
	}
}

// outcomeVersion is the version an outcome names: only for a noncurrent
// version or a delete marker.
func outcomeVersion(o *remoteindex.Object) string {
	if o.Version() {
		return o.S3VersionID()
	}
	return ""
}
