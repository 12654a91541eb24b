//go:build !ipasmultipart

package gateway

import (
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// This file stands in for multipart.go until package queue journals multipart
// uploads (queue.Upload, Node.CreateUpload, Object.Parts...). Build with the tag
// ipasmultipart once it does, and delete this file.

var errNoMultipart = s3err.ErrNotImplemented.WithMessage("Multipart uploads are not available in this build.")

type uploadIndex interface{}

func (s *Server) initMultipart() {}

// segments lists the blobs whose concatenation is o's content.
func segments(o queue.Object) []segment { return []segment{{o.Blob, o.Size}} }

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
