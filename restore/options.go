package restore

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipas/ipas/remoteindex"
)

// Defaults for Options.
const (
	// DefaultObjects is how many objects download at once.
	DefaultObjects = 4
	// DefaultRanges is how many ranges of one large object download at once.
	DefaultRanges = 4
	// DefaultRangeSize is the size of one ranged GET, and the largest object
	// fetched with a single GET straight into the store.
	DefaultRangeSize = 8 << 20
	// DefaultRetries is how often a failed GET is tried again before its
	// object is reported as failed (a re-run resumes it).
	DefaultRetries = 5
	// DefaultStallTimeout cancels a GET whose body has not moved for this long.
	DefaultStallTimeout = 60 * time.Second
	// DefaultHeads is how many HEAD requests run at once while planning.
	DefaultHeads = 8
	// DefaultSkewMargin is how far apart the archive's clock and the
	// remote's may be for a listing's LastModified alone to prove that an
	// object absent from the snapshot is older than it (deleted locally).
	// Closer objects are HEADed and judged by their own mtime.
	DefaultSkewMargin = 15 * time.Minute
)

// Options say what to restore and how.
type Options struct {
	// StateDir holds the restore's own files: the plan, the downloaded
	// snapshot, partial objects and the in-progress marker.
	StateDir string
	// Bucket and Prefix restore only the objects of one bucket whose keys
	// start with Prefix (Prefix needs Bucket).
	Bucket, Prefix string
	// IncludeDeleted restores objects that the snapshot shows were deleted
	// locally (the remote keeps them under the archive policy).
	IncludeDeleted bool
	// Merge allows restoring into an archive that holds objects already; a
	// newer local version is never overwritten.
	Merge bool
	// NoSnapshot ignores the remote index snapshot: LIST plus HEAD.
	NoSnapshot bool
	// MetadataOnly restores the index without the bytes: each object is
	// journaled remote-only (archive.RemoteOnly), listed and HEADed but not
	// readable until a restore without MetadataOnly fetches its bytes.
	// Empty objects, which need no download, are restored whole.
	MetadataOnly bool
	// Secrets, when set, opens the access keys' secrets of a snapshot that
	// carries them sealed under a passphrase: given how they are sealed, it
	// returns the function that re-seals one for this data directory
	// (users.key), or an error (users.ErrPassphrase) that restores the
	// users without keys.
	Secrets func(seal remoteindex.SecretSeal) (reseal func(id string, sealed []byte) ([]byte, error), err error)
	// Identity is the remote being restored (and the archive ID of the data
	// directory, when it has one): a snapshot of anything else is refused.
	Identity remoteindex.Identity

	Objects      int
	Ranges       int
	RangeSize    int64
	Retries      int
	Heads        int
	StallTimeout time.Duration
	SkewMargin   time.Duration
}

// DefaultOptions returns the defaults for a restore whose files go in stateDir.
func DefaultOptions(stateDir string) Options {
	return Options{
		StateDir: stateDir, Objects: DefaultObjects, Ranges: DefaultRanges, RangeSize: DefaultRangeSize,
		Retries: DefaultRetries, Heads: DefaultHeads, StallTimeout: DefaultStallTimeout, SkewMargin: DefaultSkewMargin,
	}
}

// Validate names the first bad option and how to fix it.
func (o Options) Validate() error {
	switch {
	case o.StateDir == "":
		return fmt.Errorf("restore: no state directory: set Options.StateDir")
	case o.Prefix != "" && o.Bucket == "":
		return fmt.Errorf("restore: --prefix %q without --bucket: name the bucket the prefix belongs to", o.Prefix)
	case strings.Contains(o.Bucket, "/"):
		return fmt.Errorf("restore: --bucket %q: a bucket name has no slash; put the rest in --prefix", o.Bucket)
	case o.Objects < 1 || o.Ranges < 1 || o.Heads < 1:
		return fmt.Errorf("restore: objects %d, ranges %d, heads %d: each at least 1", o.Objects, o.Ranges, o.Heads)
	case o.RangeSize < 1<<20:
		return fmt.Errorf("restore: range size %d: at least 1 MiB (default %d)", o.RangeSize, DefaultRangeSize)
	case o.Retries < 0 || o.StallTimeout <= 0 || o.SkewMargin < 0:
		return fmt.Errorf("restore: retries, stall timeout and skew margin must not be negative")
	}
	return nil
}

// listPrefix is the part of the remote namespace the options select.
func (o Options) listPrefix() string {
	if o.Bucket == "" {
		return ""
	}
	return o.Bucket + "/" + o.Prefix
}

// selects reports whether the options select the object name.
func (o Options) selects(name string) bool {
	return strings.HasPrefix(name, o.listPrefix())
}
