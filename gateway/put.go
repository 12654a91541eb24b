package gateway

import (
	"errors"
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
	if err := s.checkPutConditions(r); err != nil {
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
	if err := s.objects.Commit(r.Context(), o, inline); err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", `"`+o.ETag+`"`)
	h.Set("X-Amz-Object-Size", strconv.FormatInt(o.Size, 10))
	writeChecksums(h, o.Checksums, true)
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkPutConditions implements conditional writes: If-None-Match: * (only if absent)
// and If-Match (only if the current ETag matches). They are checked before the body is
// read; a racing writer between the check and the commit wins, as in S3 before it
// enforced the condition at commit.
func (s *Server) checkPutConditions(r *request) error {
	return s.checkWriteConditions(r, r.bucket, r.key)
}

// checkWriteConditions checks If-Match and If-None-Match of a PutObject or a
// CompleteMultipartUpload against the current object at bucket/key. S3 implements
// If-None-Match only as "*", and not together with If-Match: anything else is
// NotImplemented.
func (s *Server) checkWriteConditions(r *request, bucket, key string) error {
	ifNone, ifMatch := r.Header.Get("If-None-Match"), r.Header.Get("If-Match")
	if ifNone == "" && ifMatch == "" {
		return nil
	}
	if (ifNone != "" && ifMatch != "") || (ifNone != "" && ifNone != "*") {
		return s3err.ErrNotImplemented
	}
	cur, err := s.idx.Object(bucket, key)
	exists := err == nil
	if err != nil && !errors.Is(err, queue.ErrNoSuchKey) {
		return err
	}
	if ifNone == "*" && exists {
		return s3err.ErrPreconditionFailed
	}
	if ifMatch != "" {
		if !exists {
			return s3err.ErrNoSuchKey
		}
		if !etagMatches(ifMatch, cur.ETag) {
			return s3err.ErrPreconditionFailed
		}
	}
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
	if err := s.idx.DeleteObject(r.Context(), r.bucket, r.key, queue.NewVersionID(s.now())); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
