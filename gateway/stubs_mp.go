package gateway

import "github.com/ipas/ipas/gateway/s3err"

var errNoMultipart = s3err.ErrNotImplemented.WithMessage("Multipart uploads are not available yet.")

func (s *Server) listUploads(w *responseWriter, r *request) error  { return errNoMultipart }
func (s *Server) createUpload(w *responseWriter, r *request) error { return errNoMultipart }
func (s *Server) uploadPart(w *responseWriter, r *request, id string) error {
	return errNoMultipart
}
func (s *Server) uploadPartCopy(w *responseWriter, r *request, id string) error {
	return errNoMultipart
}
func (s *Server) listParts(w *responseWriter, r *request, id string) error { return errNoMultipart }
func (s *Server) completeUpload(w *responseWriter, r *request, id string) error {
	return errNoMultipart
}
func (s *Server) abortUpload(w *responseWriter, r *request, id string) error { return errNoMultipart }
