package gateway

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/internal/s3name"
	"github.com/ipas/ipas/queue"
)

// copySource parses x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded,
// optionally with "?versionId=". Errors are S3's InvalidArgument messages.
func copySource(v string) (bucket, key, versionID string, err error) {
	path, query, _ := strings.Cut(v, "?")
	if query != "" {
		q, perr := url.ParseQuery(query)
		if perr != nil {
			return "", "", "", s3err.ErrInvalidArgument.WithMessage("Invalid copy source version id.")
		}
		versionID = q.Get("versionId")
	}
	path, perr := url.PathUnescape(path)
	if perr != nil || !utf8.ValidString(path) {
		return "", "", "", s3err.ErrInvalidArgument.WithMessage("Invalid copy source encoding")
	}
	if query == "" {
		// An encoded "?versionId=" still names a version, as S3 reads it.
		if p, v, ok := strings.Cut(path, "?versionId="); ok {
			path, versionID = p, v
		}
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if s3name.CheckBucket(bucket) != nil {
		return "", "", "", s3err.ErrInvalidArgument.WithMessage("Invalid copy source bucket name")
	}
	if key == "" {
		return "", "", "", s3err.ErrInvalidArgument.WithMessage("Invalid copy source object key")
	}
	return bucket, key, versionID, nil
}

// sourceObject returns the object named by x-amz-copy-source, checking the copy
// conditions.
func (s *Server) sourceObject(r *request) (queue.Object, error) {
	bucket, key, versionID, err := copySource(r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return queue.Object{}, err
	}
	return s.copySourceObject(r, bucket, key, versionID)
}

// copySourceObject returns a parsed copy source, checking the copy conditions.
func (s *Server) copySourceObject(r *request, bucket, key, versionID string) (queue.Object, error) {
	if err := s.allow(r, authz.GetObject, bucket, key); err != nil {
		return queue.Object{}, err
	}
	src, err := s.versionedSource(r, bucket, key, versionID)
	if err != nil {
		return queue.Object{}, err
	}
	if err := checkConditions(r.Header, "X-Amz-Copy-Source-", src); err != nil {
		return queue.Object{}, err
	}
	return src, nil
}

// copyObject makes a new object version with the source's bytes. Blobs are content
// addressed, so no byte is copied: the new version names the same blob (or parts).
func (s *Server) copyObject(w *responseWriter, r *request) error {
	if err := checkKey(r.key); err != nil {
		return err
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	algo, err := copyChecksumAlgorithm(r.Header)
	if err != nil {
		return err
	}
	src, err := s.sourceObject(r)
	if err != nil {
		return err
	}
	if src.Size > s.cfg.MaxObjectSize {
		return s3err.ErrEntityTooLarge
	}
	if r.noOverwrite {
		if _, err := s.checkWriteConditions(r, r.bucket, r.key); err != nil {
			return err
		}
	}
	release, err := s.pinSource(src)
	if err != nil {
		return err
	}
	defer release()
	now := s.now()
	o := src
	o.Bucket, o.Key, o.VersionID, o.ModTime = r.bucket, r.key, queue.NewVersionID(now), now
	if o.ContentType, o.Metadata, err = copyMetadata(r, src); err != nil {
		return err
	}
	if o.Checksums, err = s.copyChecksums(r, src, algo); err != nil {
		return err
	}
	if err := s.idx.PutObject(r.Context(), o); err != nil {
		return err
	}
	s.writeVersionID(w.Header(), r.bucket, o.VersionID)
	s.writeCopySourceVersion(w.Header(), src)
	return writeXML(w, http.StatusOK, copyObjectResult{CopyObjectResult: gofakes3.CopyObjectResult{ETag: `"` + o.ETag + `"`,
		LastModified: gofakes3.NewContentTime(now)}, checksumFields: newChecksumFields(o.Checksums), ChecksumType: string(checksumType(o.Checksums))})
}

// maxDeleteObjects is S3's limit on keys in one DeleteObjects request.
const maxDeleteObjects = 1000

func (s *Server) deleteObjects(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	if err := checkDeleteIntegrity(r); err != nil {
		return err
	}
	raw, err := s.readXML(w, r)
	if err != nil {
		return err
	}
	var req gofakes3.DeleteRequest
	if err := decodeXML(raw, &req); err != nil {
		return err
	}
	// An empty list deletes nothing and says so; S3 clients send one when a
	// batch they computed turned out empty.
	if len(req.Objects) > maxDeleteObjects {
		return s3err.ErrMalformedXML
	}
	state, err := s.bucketVersioning(r.bucket)
	if err != nil {
		return err
	}
	errs := make([]error, len(req.Objects))
	dels := make([]queue.ObjectDeletion, 0, len(req.Objects))
	at := make([]int, 0, len(req.Objects)) // dels[i] is req.Objects[at[i]]
	markers := map[int]bool{}              // versions removed that were delete markers
	for i, obj := range req.Objects {
		if errs[i] = checkKey(obj.Key); errs[i] == nil {
			errs[i] = s.allow(r, authz.DeleteObject, r.bucket, obj.Key)
		}
		d := queue.ObjectDeletion{Key: obj.Key, DeleteID: queue.NewVersionID(s.now())}
		if errs[i] == nil && obj.VersionID != "" {
			d, errs[i] = s.versionDeletion(r.bucket, obj.Key, obj.VersionID, state, d)
			if errs[i] == nil && d.VersionID != "" {
				markers[i] = s.isDeleteMarker(r.bucket, obj.Key, obj.VersionID)
			}
		}
		if errs[i] == nil {
			dels = append(dels, d)
			at = append(at, i)
		}
	}
	for i, err := range s.deleteKeys(r.Context(), r.bucket, dels) {
		if errors.Is(err, queue.ErrNoSuchVersion) {
			err = nil // gone already: deleted, as S3 answers
		}
		errs[at[i]] = err
	}
	out := deleteResult{Xmlns: s3Namespace}
	for i, obj := range req.Objects {
		if err := errs[i]; err != nil {
			e := toAPIError(err)
			if e == s3err.ErrInternalError {
				r.log.Error().Err(err).Str("bucket", r.bucket).Str("key", obj.Key).Msg("delete objects")
			}
			out.Error = append(out.Error, gofakes3.ErrorResult{Key: obj.Key, Code: gofakes3.ErrorCode(e.Code), Message: e.Message})
			continue
		}
		if req.Quiet {
			continue
		}
		d := deletedObject{Key: obj.Key, VersionID: obj.VersionID}
		switch {
		case obj.VersionID != "":
			marker := markers[i]
			d.DeleteMarker = &marker
			if marker {
				d.DeleteMarkerVersionID = obj.VersionID
			}
		case state == queue.VersioningEnabled:
			d.DeleteMarker, d.DeleteMarkerVersionID = ptrTrue(), dels[slices.Index(at, i)].DeleteID
		case state == queue.VersioningSuspended:
			d.DeleteMarker, d.DeleteMarkerVersionID = ptrTrue(), queue.NullVersionID
		}
		out.Deleted = append(out.Deleted, d)
	}
	return writeXML(w, http.StatusOK, out)
}

// batchDeleter is the journal's DeleteObjects (*queue.Node): many deletes in one entry.
type batchDeleter interface {
	DeleteObjects(ctx context.Context, bucket string, dels []queue.ObjectDeletion) []error
}

// deleteKeys journals the deletes of a DeleteObjects together, in one entry (one
// fsync instead of one per key) when the index can; one result per key.
func (s *Server) deleteKeys(ctx context.Context, bucket string, dels []queue.ObjectDeletion) []error {
	if b, ok := s.idx.(batchDeleter); ok {
		return b.DeleteObjects(ctx, bucket, dels)
	}
	errs := make([]error, len(dels))
	for i, d := range dels {
		if d.VersionID != "" && s.versions != nil {
			errs[i] = s.versions.DeleteObjectVersion(ctx, bucket, d.Key, d.VersionID)
			continue
		}
		errs[i] = s.idx.DeleteObject(ctx, bucket, d.Key, d.DeleteID)
	}
	return errs
}

// errMissingDeleteDigest is S3's answer to a DeleteObjects without a digest of its body.
var errMissingDeleteDigest = s3err.ErrInvalidRequest.WithMessage(
	"Missing required header for this request: Content-MD5 OR x-amz-checksum-*")

// checkDeleteIntegrity requires what S3 requires of a DeleteObjects: a digest of
// the key list (Content-MD5, an x-amz-checksum-* header, or a checksum trailer),
// which readXML then verifies. With a payload the signature does not cover
// (UNSIGNED-PAYLOAD), a Content-MD5 must be signed as well: otherwise a captured
// request could be replayed with another key list and a matching digest. (An
// x-amz-checksum-* header is always signed: the verifier refuses unsigned x-amz-*
// headers.)
func checkDeleteIntegrity(r *request) error {
	values, err := checksumValues(r.Header)
	if err != nil {
		return err
	}
	if len(values) > 0 || r.Header.Get("X-Amz-Trailer") != "" {
		return nil
	}
	if r.Header.Get("Content-Md5") == "" {
		return errMissingDeleteDigest
	}
	if !sigv4.IsSHA256Hex(r.auth.PayloadHash) && !slices.Contains(r.auth.SignedHeaders, "content-md5") {
		return s3err.ErrAccessDenied.WithMessage("There were headers present in the request which were not signed").
			WithElements(s3err.Element{Name: s3err.ElementHeadersNotSigned, Value: "content-md5"})
	}
	return nil
}

// deleteResult is DeleteObjects' answer: gofakes3's type leaves out the
// namespace and the versions.
type deleteResult struct {
	XMLName xml.Name               `xml:"DeleteResult"`
	Xmlns   string                 `xml:"xmlns,attr"`
	Deleted []deletedObject        `xml:"Deleted"`
	Error   []gofakes3.ErrorResult `xml:",omitempty"`
}

// deletedObject is one Deleted entry.
type deletedObject struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          *bool  `xml:"DeleteMarker,omitempty"` // false is said for a version removed
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

func ptrTrue() *bool {
	t := true
	return &t
}
