package gateway

import (
	"errors"
	"net/http"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/gateway/s3err"
)

// routePolicy serves GetBucketPolicy, PutBucketPolicy and
// DeleteBucketPolicy; authorize has let only the owner or an admin through.
func (s *Server) routePolicy(w *responseWriter, r *request) error {
	if s.cfg.Authorizer == nil {
		return s3err.ErrNotImplemented.WithMessage("Bucket policies need users, which this gateway was started without.")
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet:
		p := s.cfg.Authorizer.Bucket(r.bucket).Policy
		if p == nil {
			return s3err.ErrNoSuchBucketPolicy
		}
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(p.Text))
		return err
	case http.MethodPut:
		return s.putPolicy(w, r)
	case http.MethodDelete:
		if err := s.cfg.Authorizer.SetPolicy(r.Context(), r.bucket, ""); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s3err.ErrMethodNotAllowed
}

func (s *Server) putPolicy(w *responseWriter, r *request) error {
	if r.ContentLength > authz.MaxPolicySize {
		return s3err.ErrMalformedPolicy.WithMessage("Policies must be at most 20480 bytes.")
	}
	raw, err := s.readXMLBody(w, r, true) // any small body: the limit is the XML one, checked below
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return s3err.ErrMalformedPolicy.WithMessage("The policy is empty; DeleteBucketPolicy removes a policy.")
	}
	err = s.cfg.Authorizer.SetPolicy(r.Context(), r.bucket, string(raw))
	var pe *authz.PolicyError
	if errors.As(err, &pe) {
		if pe.Code == "NotImplemented" {
			return s3err.ErrNotImplemented.WithMessage(pe.Reason)
		}
		return s3err.ErrMalformedPolicy.WithMessage(pe.Reason)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
