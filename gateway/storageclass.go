package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// Storage classes, shown on GET, HEAD, listings and attributes. An object
// whose bytes are local is STANDARD. So is one whose bytes are on the remote
// only (restored with --metadata-only) when the archive reads it through
// from the remote: a GET works, a little slower, and S3 clients must not
// skip it; HEAD and GET say it is not cached with CachedHeader. Without
// read-through such an object is GLACIER: S3 clients know that class as
// "listed and HEADed, but a GET needs a restore first", and aws-cli, for
// one, skips such objects with a warning instead of failing a whole `s3 sync`.
const (
	storageClass           = "STANDARD"
	remoteOnlyStorageClass = "GLACIER"
)

// CachedHeader is IPAS's own response header on GET and HEAD of an object
// whose bytes are on the remote only and read through: "false". It is absent
// for an object whose bytes are local.
const CachedHeader = "X-Ipas-Cached"

// objectStorageClass is o's storage class as clients see it.
func (s *Server) objectStorageClass(o queue.Object) string {
	if !archive.Local(o) && !s.objects.ReadsThrough() {
		return remoteOnlyStorageClass
	}
	return storageClass
}

// readThroughError answers a GET of a remote-only object whose read-through
// failed before its first byte: 503 SlowDown while the remote cannot be
// reached (retrying later helps; local objects are served meanwhile), 500
// InternalError when the remote copy is lost or is not the indexed bytes.
func readThroughError(err error) error {
	switch {
	case errors.Is(err, archive.ErrRemoteOnly):
		return err
	case errors.Is(err, archive.ErrRemoteUnavailable):
		return s3err.ErrSlowDown.WithMessage("This object's bytes are on the remote only, and reading them through from the remote failed; " +
			"objects stored on this gateway are served as usual. Retry later. " + err.Error())
	case errors.Is(err, archive.ErrRemoteCorrupt), errors.Is(err, archive.ErrRemoteMissing):
		return s3err.ErrInternalError.WithMessage("This object's bytes are on the remote only, and the remote copy cannot be served: " +
			err.Error() + ". Nothing was cached; the gateway's log says how to fix it.")
	}
	return err
}

// errRemoteOnly answers a GET of an object whose bytes are on the remote only:
// 403 InvalidObjectState with its storage class, as S3 answers a GET of an
// archived object, and a message that says how to get the bytes back.
func errRemoteOnly(bucket, key string) error {
	return s3err.ErrInvalidObjectState.WithMessage(fmt.Sprintf(
		"The bytes of this object are on the remote only (restored with gateway restore --metadata-only); "+
			"this gateway does not read them through from the remote. "+
			"To make it readable, stop the gateway and run: gateway restore --merge --bucket %s --prefix %s",
		shellQuote(bucket), shellQuote(key))).
		WithElements(s3err.Element{Name: s3err.ElementStorageClass, Value: remoteOnlyStorageClass})
}

// errRemoteOnlySource answers a copy whose source's bytes are on the remote only.
var errRemoteOnlySource = s3err.ErrInvalidObjectState.WithMessage(
	"The source object of the copy has its bytes on the remote only (restored with gateway restore --metadata-only); " +
		"restore its bytes with gateway restore --merge first.").
	WithElements(s3err.Element{Name: s3err.ElementStorageClass, Value: remoteOnlyStorageClass})

// remoteOnlyAsS3 turns archive.ErrRemoteOnly from pinning a copy source into
// its S3 answer.
func remoteOnlyAsS3(err error) error {
	if errors.Is(err, archive.ErrRemoteOnly) {
		return errRemoteOnlySource
	}
	return err
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// characters, so the command in a message can be pasted as it is.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
