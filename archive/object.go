package archive

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// Piece is one stretch of an object's bytes: a whole blob.
type Piece struct {
	Blob string // lowercase hex SHA-256, as the index names blobs
	Size int64
}

// Digest parses the piece's blob name.
func (p Piece) Digest() (store.Digest, error) {
	d, err := store.ParseDigest(p.Blob)
	if err != nil {
		return d, fmt.Errorf("archive: piece: %w", err)
	}
	return d, nil
}

// ErrRemoteOnly is the error of reading, or pinning for a copy, an object
// whose bytes are on the remote only (RemoteOnly): nothing local holds them.
var ErrRemoteOnly = errors.New("archive: the object's bytes are on the remote only")

// RemoteOnly returns the index entry of o, a version that is on the remote
// (o.Replica), without its bytes: it names no blob, and keeps partSizes (the
// remote copy's part sizes, nil for an object in one piece) so that HEAD and
// GET ?partNumber= still answer. Journaled by a restored put, it is listed and
// HEADed like any object; reading it is ErrRemoteOnly until a restored put of
// the same version with its blobs (Pieces) makes it local again.
func RemoteOnly(o queue.Object, partSizes []int64) queue.Object {
	o.RemoteOnly, o.Blob, o.Parts = true, "", nil
	for _, s := range partSizes {
		o.Parts = append(o.Parts, queue.ObjectPart{Size: s})
	}
	return o
}

// Local reports whether o's bytes are in the local blob store.
func Local(o queue.Object) bool { return !o.RemoteOnly }

// Pieces lists the blobs whose concatenation is o's content: its parts, for an
// object completed from a multipart upload without copying them together, or
// its one blob. A remote-only object has none.
func Pieces(o queue.Object) []Piece {
	if o.RemoteOnly {
		return nil
	}
	if len(o.Parts) == 0 {
		return []Piece{{o.Blob, o.Size}}
	}
	out := make([]Piece, len(o.Parts))
	for i, p := range o.Parts {
		out[i] = Piece{p.Blob, p.Size}
	}
	return out
}

// NewObject returns the index entry of an object stored as the one blob b:
// bucket/key in a new version made at now, whose ETag is the blob's MD5, as S3
// gives a single-part upload. The caller adds content type, metadata and
// checksums.
func NewObject(bucket, key string, b store.Blob, now time.Time) queue.Object {
	digest := b.Digest.String()
	return queue.Object{
		Bucket: bucket, Key: key, VersionID: queue.NewVersionID(now),
		Blob: digest, Size: b.Size, ETag: ETag(b), SHA256: digest, ModTime: now,
	}
}

// ETag is the S3 ETag of a single-part object stored as b: its MD5 in hex.
func ETag(b store.Blob) string { return hex.EncodeToString(b.MD5[:]) }

// ParseDigest parses a SHA-256 in hex (64 characters, either case): a blob
// name from the index, or the payload hash a client signed.
func ParseDigest(s string) (store.Digest, error) {
	d, err := store.ParseDigest(s)
	if err != nil {
		return d, fmt.Errorf("archive: %w", err)
	}
	return d, nil
}
