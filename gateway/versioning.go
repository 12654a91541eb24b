package gateway

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// versionIndex is the part of the journal (*queue.Node) that keeps object
// versions: without it, buckets cannot be versioned.
type versionIndex interface {
	ObjectVersion(bucket, key, versionID string) (queue.ObjectVersion, error)
	LatestVersion(bucket, key string) (queue.Object, error)
	ListVersions(bucket, prefix, keyMarker, versionMarker string, limit int) ([]queue.ObjectVersion, bool, error)
	DeleteObjectVersion(ctx context.Context, bucket, key, versionID string) error
	SetVersionMetadata(ctx context.Context, bucket, key, versionID string, meta map[string]string) error
}

var _ versionIndex = (*queue.Node)(nil)

// Headers of versioned objects.
const (
	versionIDHeader    = "X-Amz-Version-Id"
	deleteMarkerHeader = "X-Amz-Delete-Marker"
	// copySourceVersionHeader names the version a copy read.
	copySourceVersionHeader = "X-Amz-Copy-Source-Version-Id"
)

var errNoVersioning = s3err.ErrNotImplemented.WithMessage("Bucket versioning is not available: the index does not journal versions.")

// errInvalidVersionID is S3's answer to a version ID it never issues.
func errInvalidVersionID(v string) error {
	return s3err.ErrInvalidArgument.WithMessage("Invalid version id specified").WithElements(
		s3err.Element{Name: s3err.ElementArgumentName, Value: "versionId"},
		s3err.Element{Name: s3err.ElementArgumentValue, Value: v})
}

// checkVersionID refuses a version ID that no version can have: "null", or
// one of queue.NewVersionID's.
func checkVersionID(v string) error {
	if v == queue.NullVersionID {
		return nil
	}
	if len(v) != 26 || strings.IndexFunc(v, func(c rune) bool {
		return !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z')
	}) >= 0 {
		return errInvalidVersionID(v)
	}
	return nil
}

// versioningStatus is PutBucketVersioning's body and GetBucketVersioning's
// answer (no Status: never enabled).
type versioningStatus struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

// bucketVersioning returns bucket's versioning state: "" (never enabled),
// queue.VersioningEnabled or queue.VersioningSuspended.
func (s *Server) bucketVersioning(bucket string) (string, error) {
	if s.settings == nil || s.versions == nil {
		return "", nil
	}
	v, _, err := s.settings.BucketSetting(bucket, queue.SettingVersioning)
	return v, err
}

func (s *Server) getBucketVersioning(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	state, err := s.bucketVersioning(r.bucket)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, versioningStatus{Xmlns: s3Namespace, Status: state})
}

func (s *Server) putBucketVersioning(w *responseWriter, r *request) error {
	if s.versions == nil {
		return errNoVersioning
	}
	raw, err := s.readBucketConfig(w, r)
	if err != nil {
		return err
	}
	var c versioningStatus
	if err := decodeXML(raw, &c); err != nil {
		return err
	}
	if c.MfaDelete == "Enabled" {
		return s3err.ErrNotImplemented.WithMessage("MFA delete is not implemented by this gateway.")
	}
	if c.MfaDelete != "" && c.MfaDelete != "Disabled" {
		return s3err.ErrMalformedXML
	}
	switch c.Status {
	case queue.VersioningEnabled, queue.VersioningSuspended:
	case "":
		// No Status changes nothing; a bucket never goes back to unversioned.
		w.WriteHeader(http.StatusOK)
		return nil
	default:
		return s3err.ErrMalformedXML
	}
	return s.setBucketSetting(w, r, queue.SettingVersioning, c.Status, http.StatusOK)
}

// readObject returns the version of r's object that a GET, HEAD or
// attributes request names (?versionId), or the current one. A delete marker
// answers 405 with ?versionId, 404 NoSuchKey without; both say what it is
// in the headers, as S3 does.
func (s *Server) readObject(w *responseWriter, r *request) (queue.Object, error) {
	vid, named := r.URL.Query()["versionId"]
	id := ""
	if named {
		id = vid[0]
		if err := checkVersionID(id); err != nil {
			return queue.Object{}, err
		}
	}
	state, err := s.bucketVersioning(r.bucket)
	if err != nil {
		return queue.Object{}, s.objectOrBucketError(r, err)
	}
	if state == "" {
		// Every object of a bucket that never had versioning is its null version.
		if named && id != queue.NullVersionID {
			if err := s.checkBucket(r); err != nil {
				return queue.Object{}, err
			}
			return queue.Object{}, s3err.ErrNoSuchVersion
		}
		o, err := s.idx.Object(r.bucket, r.key)
		if err != nil {
			return queue.Object{}, s.objectOrBucketError(r, err)
		}
		if named {
			w.Header().Set(versionIDHeader, queue.NullVersionID)
		}
		return o, nil
	}
	h := w.Header()
	if !named {
		o, err := s.idx.Object(r.bucket, r.key)
		if err == nil {
			h.Set(versionIDHeader, o.S3VersionID())
			return o, nil
		}
		if !errors.Is(err, queue.ErrNoSuchKey) {
			return queue.Object{}, s.objectOrBucketError(r, err)
		}
		if dm, err := s.versions.LatestVersion(r.bucket, r.key); err == nil && dm.DeleteMarker {
			h.Set(deleteMarkerHeader, "true")
			h.Set(versionIDHeader, dm.S3VersionID())
		}
		return queue.Object{}, s3err.ErrNoSuchKey
	}
	v, err := s.versions.ObjectVersion(r.bucket, r.key, id)
	if errors.Is(err, queue.ErrNoSuchVersion) {
		return queue.Object{}, s3err.ErrNoSuchVersion
	}
	if err != nil {
		return queue.Object{}, s.objectOrBucketError(r, err)
	}
	h.Set(versionIDHeader, v.S3VersionID())
	if v.DeleteMarker {
		h.Set(deleteMarkerHeader, "true")
		h.Set("Last-Modified", v.ModTime.UTC().Format(http.TimeFormat))
		return queue.Object{}, s3err.ErrMethodNotAllowed.WithMessage("The specified method is not allowed against this resource.")
	}
	return v.Object, nil
}

// deleteVersion answers a DELETE ?versionId: that version goes for good.
// A version that does not exist is deleted already, as S3 answers.
func (s *Server) deleteVersion(w *responseWriter, r *request, id string) error {
	if err := checkVersionID(id); err != nil {
		return err
	}
	state, err := s.bucketVersioning(r.bucket)
	if err != nil {
		return err
	}
	h := w.Header()
	if state == "" {
		if id == queue.NullVersionID {
			if err := s.idx.DeleteObject(r.Context(), r.bucket, r.key, queue.NewVersionID(s.now())); err != nil {
				return err
			}
		}
		h.Set(versionIDHeader, id)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	v, err := s.versions.ObjectVersion(r.bucket, r.key, id)
	switch {
	case errors.Is(err, queue.ErrNoSuchVersion):
		h.Set(versionIDHeader, id)
		w.WriteHeader(http.StatusNoContent)
		return nil
	case err != nil:
		return err
	}
	if err := s.versions.DeleteObjectVersion(r.Context(), r.bucket, r.key, id); err != nil && !errors.Is(err, queue.ErrNoSuchVersion) {
		return err
	}
	h.Set(versionIDHeader, id)
	if v.DeleteMarker {
		h.Set(deleteMarkerHeader, "true")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteMarkerHeaders says, after a DELETE without a version in a versioned
// bucket, which delete marker it added.
func (s *Server) deleteMarkerHeaders(h http.Header, bucket, deleteID string) {
	state, err := s.bucketVersioning(bucket)
	if err != nil || state == "" {
		return
	}
	h.Set(deleteMarkerHeader, "true")
	if state == queue.VersioningSuspended {
		deleteID = queue.NullVersionID
	}
	h.Set(versionIDHeader, deleteID)
}

// writeVersionID sets x-amz-version-id on the answer to a write of
// version versionID in a bucket whose versioning is Enabled.
func (s *Server) writeVersionID(h http.Header, bucket, versionID string) {
	state, err := s.bucketVersioning(bucket)
	// A write to a Suspended bucket makes the null version, which S3 does
	// not name in the answer.
	if err != nil || state != queue.VersioningEnabled {
		return
	}
	h.Set(versionIDHeader, versionID)
}

// versionedSource returns the copy source bucket/key at versionID ("" for
// the current version).
func (s *Server) versionedSource(r *request, bucket, key, versionID string) (queue.Object, error) {
	sr := &request{Request: r.Request, bucket: bucket, key: key}
	if versionID != "" {
		if err := checkVersionID(versionID); err != nil {
			return queue.Object{}, err
		}
	}
	state, err := s.bucketVersioning(bucket)
	if err != nil {
		return queue.Object{}, s.objectOrBucketError(sr, err)
	}
	if versionID == "" || state == "" {
		if versionID != "" && versionID != queue.NullVersionID {
			if err := s.checkBucket(sr); err != nil {
				return queue.Object{}, err
			}
			return queue.Object{}, s3err.ErrNoSuchVersion
		}
		o, err := s.idx.Object(bucket, key)
		if err != nil {
			return queue.Object{}, s.objectOrBucketError(sr, err)
		}
		return o, nil
	}
	v, err := s.versions.ObjectVersion(bucket, key, versionID)
	if errors.Is(err, queue.ErrNoSuchVersion) {
		return queue.Object{}, s3err.ErrNoSuchVersion
	}
	if err != nil {
		return queue.Object{}, s.objectOrBucketError(sr, err)
	}
	if v.DeleteMarker {
		return queue.Object{}, s3err.ErrInvalidRequest.WithMessage("The source of a copy request may not specifically refer to a delete marker by version id.")
	}
	return v.Object, nil
}

// writeCopySourceVersion names the version a copy read, when its bucket's
// versioning is configured.
func (s *Server) writeCopySourceVersion(h http.Header, src queue.Object) {
	if state, err := s.bucketVersioning(src.Bucket); err == nil && state != "" {
		h.Set(copySourceVersionHeader, src.S3VersionID())
	}
}

// versionDeletion turns d, one key of a DeleteObjects, into the removal of
// version id of key. In a bucket that never had versioning the null version
// is the object, and other versions do not exist (deleted: nothing to do,
// which a zero deletion with an unknown version says).
func (s *Server) versionDeletion(bucket, key, id, state string, d queue.ObjectDeletion) (queue.ObjectDeletion, error) {
	if err := checkVersionID(id); err != nil {
		return d, err
	}
	if state != "" {
		d.VersionID = id
		return d, nil
	}
	if id != queue.NullVersionID {
		d.VersionID = id // no such version: ErrNoSuchVersion, reported as deleted
	}
	return d, nil
}

// isDeleteMarker reports whether version id of key is a delete marker.
func (s *Server) isDeleteMarker(bucket, key, id string) bool {
	if s.versions == nil {
		return false
	}
	v, err := s.versions.ObjectVersion(bucket, key, id)
	return err == nil && v.DeleteMarker
}
