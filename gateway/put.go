package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/internal/s3name"
	"github.com/ipas/ipas/queue"
)

func (s *Server) putObject(w *responseWriter, r *request) error {
	if err := checkKey(r.key); err != nil {
		return err
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	contentType, meta, err := metadataFromRequest(r.Header)
	if err != nil {
		return err
	}
	cond, err := s.checkWriteConditions(r, r.bucket, r.key)
	if err != nil {
		return err
	}
	if err := checkEmptyMD5(r); err != nil {
		return err
	}
	b, err := s.newBody(w, r, s.cfg.MaxObjectSize, true)
	if err != nil {
		return err
	}
	b.ComputeIfNone(checksum.Default)
	blob, inline, handled, err := s.stageBody(r.Context(), b)
	if !handled {
		blob, err = s.putBody(r.Context(), b)
	}
	if err != nil {
		return err
	}
	defer s.objects.Unpin(blob.Digest)
	o := archive.NewObject(r.bucket, r.key, blob, s.now())
	o.ContentType, o.Metadata, o.Checksums = contentType, meta, b.Checksums()
	if err := s.objects.CommitIf(r.Context(), o, inline, cond); err != nil {
		return conditionalWriteError(err)
	}
	h := w.Header()
	h.Set("ETag", `"`+o.ETag+`"`)
	h.Set("X-Amz-Object-Size", strconv.FormatInt(o.Size, 10))
	s.writeVersionID(h, r.bucket, o.VersionID)
	writeChecksums(h, o.Checksums, true)
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkEmptyMD5 refuses a Content-MD5 header sent without a value, which S3 takes
// for an invalid digest rather than for no digest.
func checkEmptyMD5(r *request) error {
	if vs, ok := r.Header["Content-Md5"]; ok && strings.TrimSpace(strings.Join(vs, "")) == "" {
		return s3err.ErrInvalidDigest
	}
	return nil
}

func (s *Server) deleteObject(w *responseWriter, r *request) error {
	if len(r.key) > s3name.MaxKeyBytes {
		return s3err.ErrKeyTooLongError
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	if err := s.checkDeleteConditions(r); err != nil {
		return err
	}
	if v, ok := r.URL.Query()["versionId"]; ok {
		return s.deleteVersion(w, r, v[0])
	}
	id := queue.NewVersionID(s.now())
	if err := s.idx.DeleteObject(r.Context(), r.bucket, r.key, id); err != nil {
		return err
	}
	s.deleteMarkerHeaders(w.Header(), r.bucket, id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
