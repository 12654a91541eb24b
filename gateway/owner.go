package gateway

import "github.com/ipas/ipas/gateway/s3err"

// The gateway has one tenant, which owns every bucket and object and is known by
// any of its configured access keys. The owner reported in listings and ACLs is the
// access key that signed the request: S3 clients compare it with their own.

// owner returns the canonical user ID to report to r's client.
func (r *request) owner() string { return r.auth.AccessKey }

// expectedOwnerHeaders name the bucket owner a client insists on, for the request's
// bucket and for a copy's source bucket.
var expectedOwnerHeaders = []string{"X-Amz-Expected-Bucket-Owner", "X-Amz-Source-Expected-Bucket-Owner"}

// checkExpectedOwner refuses a request that expects its bucket to belong to someone
// else than the tenant, as S3 does, with AccessDenied.
func (s *Server) checkExpectedOwner(r *request) error {
	for _, name := range expectedOwnerHeaders {
		v := r.Header.Get(name)
		if v == "" {
			continue
		}
		if _, ok := s.cfg.Credentials.SecretKey(v); !ok {
			return s3err.ErrAccessDenied
		}
	}
	return nil
}
