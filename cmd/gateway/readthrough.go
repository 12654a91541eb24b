package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
)

// DefaultCacheOnRead is store.cache_on_read's default: a whole read of an
// object whose bytes are on the remote only stores it locally again.
const DefaultCacheOnRead = "always"

// parseCacheOnRead reads store.cache_on_read: "always", "never", or a number
// N of reads of an object (counted in memory since the daemon started) at
// which a whole read re-caches it.
func parseCacheOnRead(v string) (archive.CachePolicy, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "always":
		return archive.CacheAlways, nil
	case "never":
		return archive.CacheNever, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is neither always, never nor a number of reads", v)
	}
	return archive.CachePolicy(n), nil
}

// remoteRanges adapts the replication remote client to what read-through
// needs: ranged GETs of the remote copy of one version of an object.
type remoteRanges struct {
	client *remote.Client
}

var _ archive.RemoteRanges = remoteRanges{}

// GetRange reads from the first of replication.Locations(o) whose copy is
// o's; when none is, it returns what the first one answered, for the caller
// to report.
func (r remoteRanges) GetRange(ctx context.Context, o queue.Object, off, length int64) (io.ReadCloser, archive.RemoteCopy, error) {
	locs := replication.Locations(&o)
	rc, c, err := r.get(ctx, locs[0], off, length)
	if err == nil && c.Matches(o) || err != nil && !errors.Is(err, archive.ErrRemoteMissing) {
		return rc, c, err
	}
	for _, loc := range locs[1:] {
		rc2, c2, err2 := r.get(ctx, loc, off, length)
		if err2 == nil && c2.Matches(o) {
			if rc != nil {
				rc.Close()
			}
			return rc2, c2, nil
		}
		if err2 == nil {
			rc2.Close()
		}
	}
	return rc, c, err
}

func (r remoteRanges) get(ctx context.Context, loc replication.Location, off, length int64) (io.ReadCloser, archive.RemoteCopy, error) {
	rc, obj, err := r.client.GetObjectAt(ctx, loc, off, length)
	if errors.Is(err, replication.ErrNotFound) {
		return nil, archive.RemoteCopy{}, fmt.Errorf("%w: %w", archive.ErrRemoteMissing, err)
	}
	if err != nil {
		return nil, archive.RemoteCopy{}, err
	}
	return rc, archive.RemoteCopy{ETag: obj.ETag, Size: obj.Size, SHA256: obj.Meta.SHA256}, nil
}

// startReadThrough makes the archive's remote-only objects readable through
// the replicator's remote client.
func startReadThrough(cfg Config, a *dataArchive, rep *replicator, log zerolog.Logger) (*archive.ReadThrough, error) {
	policy, err := parseCacheOnRead(cfg.Store.CacheOnRead)
	if err != nil {
		return nil, err // Validate caught it
	}
	name := describeRemote(rep.remote, rep.local != nil)
	rt := archive.NewReadThrough(remoteRanges{rep.client}, name, a.node, policy, log)
	a.objects.SetReadThrough(rt)
	return rt, nil
}

// describeRemote names the remote in read-through errors: what a user
// recognises, never a credential.
func describeRemote(rc remote.Config, local bool) string {
	if local {
		return "the local copy (no remote configured)"
	}
	ep := rc.Endpoint
	if ep == "" {
		ep = "AWS S3 " + rc.Region
	}
	return fmt.Sprintf("remote %s bucket %s prefix %q", ep, rc.Bucket, rc.Prefix)
}
