package gateway

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// unsupported lists the subresources the gateway does not implement. A request naming
// one gets 501 NotImplemented before any handler runs, so that, for example, a PUT
// ?tagging can never be taken for a PutObject and replace the object's data.
var unsupported = []string{
	"accelerate", "analytics", "encryption", "intelligent-tiering",
	"inventory", "legal-hold", "logging", "metadataConfiguration", "metrics",
	"notification", "object-lock", "ownershipControls", "policyStatus",
	"publicAccessBlock", "replication", "requestPayment", "restore", "retention",
	"select", "select-type", "session", "torrent", "website",
	"renameObject",
}

// splitPath returns the bucket and key of r: virtual-host style when the Host is a
// subdomain of the configured Domain, path style otherwise. The key is the decoded
// path as given, never cleaned: "../x" is an ordinary key.
func (s *Server) splitPath(r *http.Request) (bucket, key string) {
	path := r.URL.Path
	if b, ok := s.virtualHostBucket(r.Host); ok {
		return b, strings.TrimPrefix(path, "/")
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// virtualHostBucket returns the bucket a Host header names virtual-host style.
func (s *Server) virtualHostBucket(host string) (string, bool) {
	if s.cfg.Domain == "" {
		return "", false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	b, ok := strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(s.cfg.Domain))
	return b, ok && b != ""
}

// route dispatches an authenticated request to its handler.
func (s *Server) route(w *responseWriter, r *request) error {
	q := r.URL.Query()
	if err := checkStreaming(r, q); err != nil {
		return err
	}
	for _, sub := range unsupported {
		if q.Has(sub) {
			// S3's own words for what it does not implement; the log names the subresource.
			r.log.Debug().Str("subresource", sub).Msg("subresource not implemented")
			return s3err.ErrNotImplemented
		}
	}
	if err := s.checkExpectedOwner(r); err != nil {
		return err
	}
	if r.bucket == "" {
		if r.Method == http.MethodGet {
			return s.listBuckets(w, r)
		}
		return s3err.ErrMethodNotAllowed
	}
	if q.Has("policy") && r.key == "" {
		return s.routePolicy(w, r)
	}
	if q.Has("acl") {
		if r.Method == http.MethodGet {
			return s.getACL(w, r)
		}
		return s3err.ErrNotImplemented.WithMessage("ACLs are not implemented by this gateway: every object is private.")
	}
	if q.Has("uploadId") {
		return s.routeUpload(w, r, q.Get("uploadId"))
	}
	if q.Has("uploads") {
		switch {
		case r.Method == http.MethodGet && r.key == "":
			return s.listUploads(w, r)
		case r.Method == http.MethodPost && r.key != "":
			return s.createUpload(w, r)
		}
		return s3err.ErrMethodNotAllowed
	}
	if q.Has("tagging") {
		if r.key != "" {
			return s.routeObjectTagging(w, r)
		}
		return s.routeBucketConfig(w, r, queue.SettingTagging, s.putBucketTagging, s.getBucketTagging)
	}
	if q.Has("cors") {
		if r.key != "" {
			return s3err.ErrNotImplemented // CORS is a bucket's, never an object's data
		}
		return s.routeBucketConfig(w, r, queue.SettingCORS, s.putBucketCors, s.getBucketCors)
	}
	if q.Has("lifecycle") {
		return s.routeLifecycle(w, r)
	}
	if r.key == "" {
		if q.Has("versions") {
			if r.Method != http.MethodGet {
				return s3err.ErrMethodNotAllowed
			}
			return s.listObjectVersions(w, r)
		}
		return s.routeBucket(w, r, q.Has("location"), q.Has("versioning"), q.Has("delete"))
	}
	if q.Has("partNumber") && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return s3err.ErrInvalidArgument.WithMessage("This operation does not accept partNumber without uploadId")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if q.Has("attributes") && r.Method == http.MethodGet {
			return s.getObjectAttributes(w, r)
		}
		return s.getObject(w, r)
	case http.MethodPut:
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			return s.copyObject(w, r)
		}
		return s.putObject(w, r)
	case http.MethodDelete:
		return s.deleteObject(w, r)
	}
	return s3err.ErrMethodNotAllowed
}

func (s *Server) routeBucket(w *responseWriter, r *request, location, versioning, del bool) error {
	switch {
	case location && r.Method == http.MethodGet:
		return s.getBucketLocation(w, r)
	case versioning && r.Method == http.MethodGet:
		return s.getBucketVersioning(w, r)
	case versioning && r.Method == http.MethodPut:
		return s.putBucketVersioning(w, r)
	case versioning:
		return s3err.ErrMethodNotAllowed
	case del && r.Method == http.MethodPost:
		return s.deleteObjects(w, r)
	}
	switch r.Method {
	case http.MethodGet:
		return s.listObjects(w, r)
	case http.MethodHead:
		return s.headBucket(w, r)
	case http.MethodPut:
		return s.createBucket(w, r)
	case http.MethodDelete:
		return s.deleteBucket(w, r)
	}
	return s3err.ErrMethodNotAllowed
}

// isPostObject reports whether r is a browser form upload: a POST to a bucket
// with no sub-resource and no Authorization, which the form itself carries.
func isPostObject(r *request) bool {
	return r.Method == http.MethodPost && r.bucket != "" && r.key == "" && r.URL.RawQuery == "" &&
		r.Header.Get("Authorization") == ""
}

func (s *Server) routeUpload(w *responseWriter, r *request, uploadID string) error {
	if r.key == "" {
		return s3err.ErrInvalidRequest.WithMessage("A multipart upload request needs an object key.")
	}
	switch r.Method {
	case http.MethodPut:
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			return s.uploadPartCopy(w, r, uploadID)
		}
		return s.uploadPart(w, r, uploadID)
	case http.MethodGet:
		return s.listParts(w, r, uploadID)
	case http.MethodPost:
		return s.completeUpload(w, r, uploadID)
	case http.MethodDelete:
		return s.abortUpload(w, r, uploadID)
	}
	return s3err.ErrMethodNotAllowed
}

func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
