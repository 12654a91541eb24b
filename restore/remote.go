package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
)

// RemoteAdapter reads the remote through replication.Remote.
type RemoteAdapter struct {
	// Remote is the replication remote (remote.Client).
	Remote ReadRemote
}

// ReadRemote is the read side of replication.Remote that restore uses.
type ReadRemote interface {
	HeadObject(ctx context.Context, name string) (replication.RemoteObject, error)
	GetObject(ctx context.Context, name string, off, length int64) (io.ReadCloser, replication.RemoteObject, error)
	ListObjects(ctx context.Context, opts replication.ListOptions, fn func([]replication.ListedObject) error) (replication.ListStats, error)
	GetControlFile(ctx context.Context, name string) (io.ReadCloser, replication.RemoteObject, error)
}

var (
	_ Remote        = RemoteAdapter{}
	_ VersionLister = RemoteAdapter{}
	_ ReadRemote    = replication.Remote(nil)
)

// List implements Remote.
func (a RemoteAdapter) List(ctx context.Context, prefix string, fn func([]Listed) error) error {
	var page []Listed
	_, err := a.Remote.ListObjects(ctx, replication.ListOptions{Prefix: prefix}, func(objs []replication.ListedObject) error {
		page = page[:0]
		for _, o := range objs {
			page = append(page, Listed{Name: o.Name, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified})
		}
		return fn(page)
	})
	return err
}

// Head implements Remote.
func (a RemoteAdapter) Head(ctx context.Context, name string) (Listed, remoteindex.Object, error) {
	return a.head(ctx, name, func() (replication.RemoteObject, error) { return a.Remote.HeadObject(ctx, name) })
}

// head decodes what HEAD answered for name (a local name, or a version's
// name under the versions directory).
func (a RemoteAdapter) head(_ context.Context, name string, do func() (replication.RemoteObject, error)) (Listed, remoteindex.Object, error) {
	ro, err := do()
	if errors.Is(err, replication.ErrUnknownFormat) {
		return Listed{}, remoteindex.Object{}, &objectError{fmt.Sprintf("written by a newer IPAS (metadata format %d): %v", ro.Meta.Format, err),
			"restore it with the IPAS version that wrote it, or a later one"}
	}
	if err != nil {
		return Listed{}, remoteindex.Object{}, err
	}
	l := Listed{Name: name, Size: ro.Size, ETag: ro.ETag, LastModified: ro.LastModified}
	bucket, key, _ := strings.Cut(name, "/")
	if b, k, _, ok := replication.ParseVersionName(name); ok {
		bucket, key = b, k
	}
	q := replication.ObjectFromMeta(bucket, key, ro.Meta, ro.Size)
	if id := ro.Meta.VersionID; id != "" && id != replication.NullVersion {
		q.VersionID, q.Versioned = id, true
	}
	o := remoteindex.FromQueue(&q)
	o.Dropped = slices.Clone(ro.Meta.Dropped)
	o.Remote.VersionID = ro.VersionID
	return l, o, nil
}

// VersionLister is implemented by a Remote that lists the versions it keeps
// besides the current objects (RemoteAdapter over remote.Client): a restore
// without the remote index finds noncurrent versions so.
type VersionLister interface {
	ListKeptVersions(ctx context.Context, prefix string, fn func([]replication.ListedVersion) error) error
	// HeadVersion is Head of one version (versionID "" for the latest).
	HeadVersion(ctx context.Context, name, versionID string) (Listed, remoteindex.Object, error)
}

// keptVersions is the part of remote.Client that VersionLister needs.
type keptVersions interface {
	ListKeptVersions(ctx context.Context, prefix string, fn func([]replication.ListedVersion) error) error
	HeadObjectVersion(ctx context.Context, name, versionID string) (replication.RemoteObject, error)
}

// ListKeptVersions implements VersionLister; a remote that cannot list
// versions lists none.
func (a RemoteAdapter) ListKeptVersions(ctx context.Context, prefix string, fn func([]replication.ListedVersion) error) error {
	kv, ok := a.Remote.(keptVersions)
	if !ok {
		return nil
	}
	return kv.ListKeptVersions(ctx, prefix, fn)
}

// HeadVersion implements VersionLister.
func (a RemoteAdapter) HeadVersion(ctx context.Context, name, versionID string) (Listed, remoteindex.Object, error) {
	kv, ok := a.Remote.(keptVersions)
	if !ok || versionID == "" {
		return a.Head(ctx, name)
	}
	return a.head(ctx, name, func() (replication.RemoteObject, error) { return kv.HeadObjectVersion(ctx, name, versionID) })
}

// VersionReader reads one version of an object of a remote bucket with
// versioning (remote.Client).
type VersionReader interface {
	GetObjectVersion(ctx context.Context, name, versionID string, off, length int64) (io.ReadCloser, replication.RemoteObject, error)
}

// Get implements Remote.
func (a RemoteAdapter) Get(ctx context.Context, name, versionID string, off, length int64) (io.ReadCloser, string, error) {
	var rc io.ReadCloser
	var ro replication.RemoteObject
	var err error
	if vr, ok := a.Remote.(VersionReader); ok && versionID != "" {
		rc, ro, err = vr.GetObjectVersion(ctx, name, versionID, off, length)
	} else {
		rc, ro, err = a.Remote.GetObject(ctx, name, off, length)
	}
	if err != nil {
		return nil, "", err
	}
	return rc, ro.ETag, nil
}

// GetControlFile implements Remote.
func (a RemoteAdapter) GetControlFile(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, _, err := a.Remote.GetControlFile(ctx, name)
	return rc, err
}
