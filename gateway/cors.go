package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/ipas/ipas/gateway/cors"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// bucketSettings is the part of the journal that keeps a bucket's
// configurations (*queue.Node).
type bucketSettings interface {
	SetBucketSetting(ctx context.Context, bucket, name, value string) error
	BucketSetting(bucket, name string) (value string, ok bool, err error)
}

var _ bucketSettings = (*queue.Node)(nil)

var errNoSettings = s3err.ErrNotImplemented.WithMessage("Bucket configurations are not available: the index does not journal them.")

// ErrNoSuchCORSConfiguration is GetBucketCors of a bucket without one.
var errNoSuchCORSConfiguration = &s3err.APIError{Code: "NoSuchCORSConfiguration",
	Message: "The CORS configuration does not exist", Status: http.StatusNotFound}

func (s *Server) putBucketCors(w *responseWriter, r *request) error {
	raw, err := s.readBucketConfig(w, r)
	if err != nil {
		return err
	}
	c, err := cors.Parse(raw)
	if err != nil {
		return err
	}
	canonical, err := c.Marshal()
	if err != nil {
		return err
	}
	return s.setBucketSetting(w, r, queue.SettingCORS, string(canonical), http.StatusOK)
}

// readBucketConfig reads the XML body of a Put of r's bucket configuration,
// once the bucket is known to exist.
func (s *Server) readBucketConfig(w *responseWriter, r *request) ([]byte, error) {
	if s.settings == nil {
		return nil, errNoSettings
	}
	raw, err := s.readXML(w, r)
	if err != nil {
		return nil, err
	}
	return raw, s.checkBucket(r)
}

// setBucketSetting stores (or, with an empty value, removes) a setting of
// r's bucket and answers status.
func (s *Server) setBucketSetting(w *responseWriter, r *request, name, value string, status int) error {
	if s.settings == nil {
		return errNoSettings
	}
	if err := s.settings.SetBucketSetting(r.Context(), r.bucket, name, value); err != nil {
		return err
	}
	w.WriteHeader(status)
	return nil
}

// routeBucketConfig sends the Put, Get and Delete of a bucket configuration
// to their handlers; Delete removes the setting.
func (s *Server) routeBucketConfig(w *responseWriter, r *request, setting string, put, get func(*responseWriter, *request) error) error {
	switch r.Method {
	case http.MethodPut:
		return put(w, r)
	case http.MethodGet:
		return get(w, r)
	case http.MethodDelete:
		return s.setBucketSetting(w, r, setting, "", http.StatusNoContent)
	}
	return s3err.ErrMethodNotAllowed
}

func (s *Server) getBucketCors(w *responseWriter, r *request) error {
	c, err := s.bucketCORS(r.bucket)
	if err != nil {
		return err
	}
	if c == nil {
		return errNoSuchCORSConfiguration
	}
	return writeXML(w, http.StatusOK, c)
}

// bucketCORS returns the bucket's CORS configuration, nil if it has none:
// NoSuchBucket.
func (s *Server) bucketCORS(bucket string) (*cors.Configuration, error) {
	if s.settings == nil {
		return nil, errNoSettings
	}
	v, ok, err := s.settings.BucketSetting(bucket, queue.SettingCORS)
	if err != nil || !ok {
		return nil, err
	}
	return cors.Parse([]byte(v))
}

// preflight answers a CORS preflight OPTIONS request, which browsers send
// without credentials: S3 answers it from the bucket's CORS configuration
// alone.
func (s *Server) preflight(w *responseWriter, r *request) error {
	if r.bucket == "" {
		return s3err.ErrMethodNotAllowed
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	req, err := cors.ParseRequest(r.Header, http.MethodOptions)
	if err != nil {
		return err
	}
	c, err := s.bucketCORS(r.bucket)
	if err != nil {
		return err
	}
	if c == nil {
		return cors.ErrNotEnabled
	}
	rule := c.Match(req)
	if rule == nil {
		return cors.ErrForbidden
	}
	rule.SetHeaders(w.Header(), req)
	w.WriteHeader(http.StatusOK)
	return nil
}

// applyCORS adds the Access-Control-* headers to the answer of a request
// that carries an Origin, before it is authenticated, so that a page can
// read the error too. A bucket without a configuration or a request no
// rule allows gets no headers; bad Access-Control-Request-* headers are
// refused as S3 does.
func (s *Server) applyCORS(w *responseWriter, r *request) error {
	if r.bucket == "" || r.Header.Get(cors.HeaderOrigin) == "" || s.settings == nil {
		return nil
	}
	req, err := cors.ParseRequest(r.Header, r.Method)
	if err != nil {
		return err
	}
	c, err := s.bucketCORS(r.bucket)
	if err != nil || c == nil {
		if errors.Is(err, queue.ErrNoSuchBucket) {
			err = nil // the operation says so, after authentication
		}
		return err
	}
	if rule := c.Match(req); rule != nil {
		rule.SetHeaders(w.Header(), req)
	}
	return nil
}
