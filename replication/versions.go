package replication

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
)

// Versions of versioned buckets on the remote. Every version put while its
// bucket's versioning was Enabled (Job.Versioned) goes to the remote as one
// of the key's versions, and the plain copy PREFIX/BUCKET/KEY always ends as
// the key's current version, never an older one:
//
//   - On a remote bucket with versioning Enabled (RemoteVersions.Versioned)
//     each version is uploaded to the plain key, where the remote keeps it
//     as one of its versions; the remote's version ID is journaled with the
//     version (RemoteCopy.VersionID) so that it can be read back. Should an
//     older version be uploaded after a newer one (a retry), the newer one
//     is copied back on top, server-side.
//   - On any other remote each version is uploaded once, to
//     VersionName(bucket, key, version), a plain object that any S3 tool
//     can read; the current version is then copied, server-side (no uplink),
//     to the plain key. Before that copy replaces a plain copy of the
//     key's null version (written before the bucket kept versions, or
//     while it was Suspended), that one is copied to the null version's
//     name, so that no version is lost.
//
// Jobs of one key run one at a time (keyLocks), and the copy to the plain
// key is made only by the job of the version that is current when it ends.
// Any other version (of an unversioned bucket, or the null version of a
// Suspended one, which the next null version replaces as S3 does)
// replicates as before, to the plain key, with no extra request and
// without reading anything more from the journal.

// VersionsDir is the control directory under which a remote without
// versioning keeps the versions of versioned buckets.
const VersionsDir = ".ipas/versions/"

// NullVersion is the version ID S3 gives a bucket's null version (put while
// versioning was off or suspended); it names that version on the remote.
const NullVersion = "null"

// VersionName is the remote name of one version of bucket/key on a remote
// without versioning: .ipas/versions/BUCKET/KEY/VERSION (under PREFIX).
func VersionName(bucket, key, version string) string {
	return VersionsDir + bucket + "/" + key + "/" + version
}

// ParseVersionName is the inverse of VersionName.
func ParseVersionName(name string) (bucket, key, version string, ok bool) {
	rest, ok := strings.CutPrefix(name, VersionsDir)
	if !ok {
		return "", "", "", false
	}
	bucket, rest, ok = strings.Cut(rest, "/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i <= 0 || i == len(rest)-1 || bucket == "" {
		return "", "", "", false
	}
	return bucket, rest[:i], rest[i+1:], true
}

// Versions is implemented by a Journal whose buckets may keep versions
// (queue.Node, through QueueJournal).
type Versions interface {
	// Current returns the current version of bucket/key (its VersionID,
	// Size and Meta) and its remote copy as journaled; a zero Version when
	// the key has none (deleted).
	Current(bucket, key string) (Version, RemoteCopy, error)
}

// RemoteVersions is implemented by a Remote that can say whether it keeps
// versions itself and copy objects server-side (remote.Client).
type RemoteVersions interface {
	// Versioned reports whether the remote bucket's versioning is Enabled.
	Versioned(ctx context.Context) (bool, error)
	// CopyObject copies src (its version srcVersionID, "" for the latest;
	// size bytes, whose metadata is meta) onto dst without sending the
	// bytes, if src's ETag is still srcETag ("": whatever it is);
	// ErrCopySourceChanged if it is not.
	CopyObject(ctx context.Context, src, srcVersionID, srcETag, dst string, size int64, meta ObjectMeta) (RemoteCopy, error)
}

// Version is a key's current version as Versions.Current reports it.
type Version struct {
	VersionID string
	Size      int64
	Meta      ObjectMeta
	// HasNull says the key also has a null version (put before the
	// bucket's versioning was enabled, or while it was Suspended), whose
	// only remote copy may be the plain one; NullPending that its upload
	// job still waits.
	HasNull, NullPending bool
}

// errNullPending defers a version's job while the key's null version, put
// before it, is not on the remote: the null version goes to the plain key,
// and must be there (to be kept) before a newer version replaces it.
var errNullPending = errors.New("replication: the key's null version, put before this version, is not on the remote yet; it goes first")

// versioned returns the journal's Versions when j puts a version of a
// versioned bucket.
func (r *Replicator) versioned(j Job) (Versions, bool) {
	vs, ok := r.journal.(Versions)
	return vs, ok && j.Op == OpPut && j.Versioned
}

// putVersion replicates one version of a versioned bucket (above) and
// returns the remote copy to journal. The caller journals it before it
// releases the key, so that the next job of the key sees it.
func (r *Replicator) putVersion(ctx context.Context, vs Versions, j Job, p *progress, log zerolog.Logger) (RemoteCopy, error) {
	rv, ok := r.remote.(RemoteVersions)
	if !ok {
		return RemoteCopy{}, jobError("put version", j, errors.New("the remote cannot copy objects"))
	}
	on, err := rv.Versioned(ctx)
	if err != nil {
		return RemoteCopy{}, jobError("read remote versioning", j, err)
	}
	cur, _, err := vs.Current(j.Bucket, j.Key)
	if err != nil {
		return RemoteCopy{}, jobError("read current version", j, err)
	}
	if cur.NullPending {
		return RemoteCopy{}, jobError("put version", j, errNullPending)
	}
	plain := j.Name()
	j.Meta.VersionID = j.VersionID
	if on {
		c, err := r.upload(ctx, j, p, log)
		if err != nil {
			return c, err
		}
		cur, cc, err := vs.Current(j.Bucket, j.Key)
		if err != nil {
			return RemoteCopy{}, jobError("read current version", j, err)
		}
		switch {
		case cur.VersionID != "" && cur.VersionID != j.VersionID && cc.VersionID != "":
			// An older version went up after the current one: put the
			// current one back on top of the remote's versions.
			if _, err := rv.CopyObject(ctx, plain, cc.VersionID, "", plain, cur.Size, cur.Meta); err != nil {
				return RemoteCopy{}, jobError("copy the current version back", j, err)
			}
		case cur.VersionID == "" && r.cfg.policy(j.Bucket) == PolicyMirror:
			// Deleted meanwhile, and its delete may have reached the
			// remote first: delete again, a delete marker on top.
			if err := r.remote.DeleteObject(ctx, plain); err != nil {
				return RemoteCopy{}, jobError("delete again", j, err)
			}
		}
		return c, nil
	}
	j.Remote = VersionName(j.Bucket, j.Key, j.VersionID)
	c, err := r.upload(ctx, j, p, log)
	if err != nil {
		return c, err
	}
	cur, _, err = vs.Current(j.Bucket, j.Key)
	if err != nil {
		return RemoteCopy{}, jobError("read current version", j, err)
	}
	if cur.VersionID != j.VersionID {
		return c, nil // noncurrent already: its versions copy is all it needs
	}
	if cur.HasNull {
		if err := r.keepUnversioned(ctx, rv, j, plain); err != nil {
			return RemoteCopy{}, err
		}
	}
	pc, err := rv.CopyObject(ctx, j.Remote, "", c.ETag, plain, j.Size, j.Meta)
	if err != nil {
		return RemoteCopy{}, jobError("copy to the plain key", j, err)
	}
	// Reconcile compares the plain copy with the ETag journaled for the
	// current version; a copy may get another ETag than the upload
	// (a multipart source).
	if pc.ETag != "" {
		c.ETag = pc.ETag
	}
	return c, nil
}

// keepUnversioned copies the plain copy of j's key to the null version's
// name when it is the null version's (it has no MetaVersionID), before the
// current version replaces it. One HEAD, for keys with a null version only.
func (r *Replicator) keepUnversioned(ctx context.Context, rv RemoteVersions, j Job, plain string) error {
	h, err := r.remote.HeadObject(ctx, plain)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return jobError("head the plain copy", j, err)
	case h.Meta.VersionID != "":
		return nil // a version of this bucket: it has its versions copy
	}
	if _, err := rv.CopyObject(ctx, plain, "", h.ETag, VersionName(j.Bucket, j.Key, NullVersion), h.Size, h.Meta); err != nil {
		return jobError("keep the unversioned copy", j, err)
	}
	return nil
}

// keyLocks makes the jobs of one key run one at a time, so that an older
// version never lands on the plain key after a newer one.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// lock waits until no other job holds name, or ctx ends.
func (k *keyLocks) lock(ctx context.Context, name string) (unlock func(), err error) {
	for {
		k.mu.Lock()
		if k.held == nil {
			k.held = map[string]chan struct{}{}
		}
		ch, busy := k.held[name]
		if !busy {
			ch = make(chan struct{})
			k.held[name] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, name)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Location is where a remote copy of one object version may be: a name
// under the remote's prefix and the remote's version ID of it ("": the
// latest).
type Location struct {
	Name, VersionID string
}

// Locations lists where the remote copy of version o may be, the likeliest
// first, as putVersion puts it: on a remote with versioning, the remote's
// own version of the plain key (o.Replica.VersionID); on one without, a
// version of a versioned bucket under the versions directory, which stays
// o's bytes after the plain copy moved on to a newer version (the plain copy
// next, for a version replicated before it had one there); a null version
// on the plain key, or, once a version of the versioned bucket replaced it
// there, as the null version's copy under the versions directory. A reader
// checks that what it finds is o's (size, ETag or SHA-256).
func Locations(o *queue.Object) []Location {
	plain := o.Bucket + "/" + o.Key
	switch {
	case o.Replica.VersionID != "":
		return []Location{{Name: plain, VersionID: o.Replica.VersionID}}
	case o.Versioned:
		return []Location{{Name: VersionName(o.Bucket, o.Key, o.VersionID)}, {Name: plain}}
	default:
		return []Location{{Name: plain}, {Name: VersionName(o.Bucket, o.Key, NullVersion)}}
	}
}
