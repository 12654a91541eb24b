package gateway

import (
	"fmt"
	"net/http"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/lifecycle"
	"github.com/ipas/ipas/queue"
)

// errNoSuchLifecycleConfiguration is GetBucketLifecycleConfiguration of a
// bucket without one.
var errNoSuchLifecycleConfiguration = &s3err.APIError{Code: "NoSuchLifecycleConfiguration",
	Message: "The lifecycle configuration does not exist", Status: http.StatusNotFound}

// routeLifecycle serves PutBucketLifecycleConfiguration,
// GetBucketLifecycleConfiguration and DeleteBucketLifecycle.
func (s *Server) routeLifecycle(w *responseWriter, r *request) error {
	if r.key != "" {
		return s3err.ErrNotImplemented // a lifecycle is a bucket's, never an object's
	}
	return s.routeBucketConfig(w, r, queue.SettingLifecycle, s.putBucketLifecycle, s.getBucketLifecycle)
}

// putBucketLifecycle stores a checked configuration. S3 requires a digest
// of the body for this call, as for DeleteObjects.
func (s *Server) putBucketLifecycle(w *responseWriter, r *request) error {
	if err := checkDeleteIntegrity(r); err != nil {
		return err
	}
	raw, err := s.readBucketConfig(w, r)
	if err != nil {
		return err
	}
	c, err := lifecycle.Parse(raw)
	if err != nil {
		return err
	}
	canonical, err := c.Marshal()
	if err != nil {
		return err
	}
	if len(canonical) > queue.MaxSettingValueLen {
		return s3err.ErrInvalidRequest.WithMessage(fmt.Sprintf("The lifecycle configuration takes %d bytes; this gateway stores at most %d: use fewer rules or shorter IDs and prefixes.",
			len(canonical), queue.MaxSettingValueLen))
	}
	return s.setBucketSetting(w, r, queue.SettingLifecycle, string(canonical), http.StatusOK)
}

func (s *Server) getBucketLifecycle(w *responseWriter, r *request) error {
	if s.settings == nil {
		return errNoSettings
	}
	v, ok, err := s.settings.BucketSetting(r.bucket, queue.SettingLifecycle)
	if err != nil {
		return err
	}
	if !ok {
		return errNoSuchLifecycleConfiguration
	}
	c, err := lifecycle.ParseStored(v)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, c)
}
