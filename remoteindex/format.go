package remoteindex

import (
	"errors"
	"strings"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// FormatVersion is the newest snapshot format this package writes and reads.
// A reader refuses a snapshot with a higher version; a new version is needed
// for any change that an older reader would misread (new optional fields
// are not). Format 2 adds the noncurrent versions and delete markers of
// versioned buckets (Object.Noncurrent, Object.DeleteMarker), which a
// format 1 reader would restore as current objects; a snapshot without
// them is still written as format 1 (FormatPlain). Format 3 adds objects
// whose hash is composite ("HEX-N", package objecthash), which a format 1
// or 2 reader would take for a malformed SHA-256 and call the remote copy
// corrupt; a snapshot without them keeps format 1 or 2.
const FormatVersion = FormatComposite

// FormatVersioned is the format of a snapshot that lists versions.
const FormatVersioned = 2

// FormatComposite is the format of a snapshot that holds an object with a
// composite hash.
const FormatComposite = 3

// FormatPlain is the format of a snapshot that holds only current objects.
const FormatPlain = 1

// Remote layout: control files live under the remote's ControlDir, outside
// the local namespace (no bucket name starts with a dot).
const (
	// SnapshotDir holds the snapshots of format 1: SnapshotDir + TIME.jsonl.gz.
	SnapshotDir = "index/v1/"
	// PointerName is the small JSON file naming the newest snapshot.
	PointerName = "index/latest"
	// snapshotExt ends every snapshot name.
	snapshotExt = ".jsonl.gz"
)

// Errors a Reader returns; each is wrapped with what was found.
var (
	// ErrTruncated means the snapshot ends before its trailer, its gzip
	// stream is cut or damaged, or the counts in the trailer do not match.
	ErrTruncated = errors.New("remoteindex: snapshot truncated or damaged")
	// ErrFormatTooOld means an object needs a newer format than the
	// snapshot's header says (FormatComposite): the snapshot must be
	// written again with it.
	ErrFormatTooOld = errors.New("remoteindex: object needs a newer snapshot format than its header's")
	// ErrNewerFormat means the snapshot was written by a newer IPAS.
	ErrNewerFormat = errors.New("remoteindex: snapshot format is newer than this program")
	// ErrOtherArchive means the snapshot describes another remote bucket,
	// prefix or archive than the one being restored.
	ErrOtherArchive = errors.New("remoteindex: snapshot belongs to another archive")
	// ErrOutOfOrder means a writer was given objects out of name order.
	ErrOutOfOrder = errors.New("remoteindex: objects out of order")
)

// Identity names the remote a snapshot describes and the archive that wrote
// it. The endpoint is informative only: the same bucket may be reached
// through another endpoint after a move.
type Identity struct {
	ArchiveID string `json:"archive_id"`
	Endpoint  string `json:"endpoint,omitempty"`
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix,omitempty"`
}

// Header is the first line of a snapshot.
type Header struct {
	Format   int      `json:"format"`
	Identity Identity `json:"identity"`
	// TakenAt is when the snapshot started reading the index (the archive's
	// clock). Every object version put before it and not deleted by the
	// end of the read is in the snapshot.
	TakenAt time.Time `json:"taken_at"`
	// JournalIndex is the journal's applied index when the read started.
	JournalIndex uint64 `json:"journal_index"`
	// Program is the IPAS version that wrote it, for humans.
	Program string `json:"program,omitempty"`
	// Users are the archive's users and their access keys, without the
	// keys' secrets; absent from snapshots written before users existed.
	Users []User `json:"users,omitempty"`
	// Secrets, when set, says how the keys' Secret fields are sealed: under
	// a key derived from a passphrase the admin chose (remote.users_passphrase_file).
	// Without it the snapshot holds no secret at all.
	Secrets *SecretSeal `json:"secrets,omitempty"`
}

// SecretSeal says how a snapshot's secrets are sealed: AES-256-GCM under
// the key that KDF derives from the passphrase, Salt and the costs (the
// access key ID is the additional data); Check is a value only that key
// opens, telling a wrong passphrase from damage.
type SecretSeal struct {
	KDF       string `json:"kdf"`
	Salt      []byte `json:"salt"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Check     []byte `json:"check"`
}

// User is one user of the archive (queue.User).
type User struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Disabled bool      `json:"disabled,omitempty"`
	Quota    int64     `json:"quota,omitempty"`
	Created  time.Time `json:"created,omitzero"`
	Keys     []Key     `json:"keys,omitempty"`
}

// Key is an access key of a user. Its secret is there only sealed under
// the passphrase of Header.Secrets: without it a restore brings the user
// back, and an admin gives them a new key.
type Key struct {
	ID      string    `json:"id"`
	Access  string    `json:"access,omitempty"`
	Scopes  []string  `json:"scopes,omitempty"`
	Created time.Time `json:"created,omitzero"`
	Secret  []byte    `json:"secret,omitempty"`
}

// Bucket settings of users (Bucket.Settings).
const (
	SettingOwner  = "owner"  // the user who owns the bucket
	SettingPolicy = "policy" // the bucket policy's JSON text
	// SettingVersioning is the bucket's versioning ("Enabled" or
	// "Suspended"; absent: never enabled).
	SettingVersioning = "versioning"
)

// Bucket is one bucket and its settings.
type Bucket struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Policy is the replication delete policy ("archive" or "mirror").
	Policy string `json:"policy,omitempty"`
	// DropFolders are the drop folders that fed the bucket.
	DropFolders []DropFolder `json:"drop_folders,omitempty"`
	// Settings holds settings added later (versioning, owner, ...), by name,
	// so that an older reader keeps them instead of failing.
	Settings map[string]string `json:"settings,omitempty"`
}

// DropFolder is one drop folder feeding a bucket.
type DropFolder struct {
	Path   string `json:"path"`
	Prefix string `json:"prefix,omitempty"`
}

// Object is one live object version: what the local index holds for it,
// in the local representation (Metadata as queue.Object keeps it), and what
// the remote reported when it was replicated.
type Object struct {
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	VersionID string    `json:"version,omitempty"`
	Size      int64     `json:"size"`
	ETag      string    `json:"etag"`
	SHA256    string    `json:"sha256"`
	ModTime   time.Time `json:"mtime"`
	// PartSizes are the parts of a multipart object (GET ?partNumber=).
	PartSizes []int64 `json:"parts,omitempty"`
	// PartSHA256 is each part's SHA-256, lowercase hex (its local blob's
	// address), so that a restore checks each part as it names its blob;
	// absent from snapshots written before it and from a HEAD.
	PartSHA256  []string          `json:"part_sha256,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Checksums   map[string]string `json:"checksums,omitempty"`
	// Remote is what the remote reported once the version was replicated;
	// zero when it was not (yet) at the time of the snapshot.
	Remote Replica `json:"remote,omitzero"`
	// Versioned marks a version put while its bucket's versioning was
	// Enabled (its S3 version ID is VersionID; otherwise "null").
	Versioned bool `json:"versioned,omitempty"`
	// Noncurrent marks a version that is not its key's latest (format 2);
	// DeleteMarker a delete marker, which has no bytes. A key's versions
	// follow its current object, newest first.
	Noncurrent   bool `json:"noncurrent,omitempty"`
	DeleteMarker bool `json:"delete_marker,omitempty"`
	// Dropped names what the remote object's metadata lacked (S3's 2 KiB
	// limit: "parts", "user-metadata"...); set only when read from a HEAD,
	// never in a snapshot, which has everything.
	Dropped []string `json:"dropped,omitempty"`
}

// Replica is the remote object's ETag and size when the upload was confirmed.
type Replica struct {
	ETag string    `json:"etag,omitempty"`
	Size int64     `json:"size,omitempty"`
	At   time.Time `json:"at,omitzero"`
	// VersionID is the remote's own version ID of the copy, on a remote
	// bucket with versioning; "" otherwise.
	VersionID string `json:"version_id,omitempty"`
}

// Name is the object's local "bucket/key" name, as the remote names it.
func (o *Object) Name() string { return o.Bucket + "/" + o.Key }

// Version reports whether o is a noncurrent version or a delete marker:
// one of a versioned bucket's versions that is not its key's current object.
func (o *Object) Version() bool { return o.Noncurrent || o.DeleteMarker }

// S3VersionID is the version ID S3 clients see: "null" for the null version.
func (o *Object) S3VersionID() string {
	if o.Versioned {
		return o.VersionID
	}
	return queue.NullVersionID
}

// RemoteName is where o's bytes are on the remote, and the remote's version
// ID to read (RemoteVersionID): the plain copy BUCKET/KEY for a current
// object or a version on a remote with versioning, else a noncurrent
// version's name under the versions directory (replication.VersionName).
func (o *Object) RemoteName() string {
	if o.Noncurrent && o.Remote.VersionID == "" {
		return replication.VersionName(o.Bucket, o.Key, o.S3VersionID())
	}
	return o.Name()
}

// Trailer is the last line: what a reader must have seen.
type Trailer struct {
	Buckets int64 `json:"buckets"`
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
}

// line is one line of the file: exactly one field is set.
type line struct {
	Header  *Header  `json:"header,omitempty"`
	Bucket  *Bucket  `json:"bucket,omitempty"`
	Object  *Object  `json:"object,omitempty"`
	Trailer *Trailer `json:"trailer,omitempty"`
}

// Pointer is the content of PointerName.
type Pointer struct {
	Format   int      `json:"format"`
	Identity Identity `json:"identity"`
	// Current is the newest complete snapshot's name under the control
	// directory; Previous the one before it, kept until the next upload.
	Current  string    `json:"current"`
	Previous string    `json:"previous,omitempty"`
	TakenAt  time.Time `json:"taken_at"`
	Objects  int64     `json:"objects"`
}

// SnapshotName is the control-file name of a snapshot taken at t.
func SnapshotName(t time.Time) string {
	return SnapshotDir + t.UTC().Format("20060102T150405.000000000Z") + snapshotExt
}

// BucketOrder reports whether bucket a sorts before bucket b in the order of
// full "bucket/key" names, the order of an S3 listing: by name + "/".
func BucketOrder(a, b string) int {
	return strings.Compare(a+"/", b+"/")
}
