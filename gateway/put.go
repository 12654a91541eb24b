package gateway

import (
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/ipas/ipas/gateway/s3err"
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
	b, err := s.newBody(w, r, s.cfg.MaxObjectSize, true)
	if err != nil {
		return err
	}
	blob, err := s.putBody(r.Context(), b)
	if err != nil {
		return err
	}
	defer s.blobs.Unpin(blob.Digest)
	now := s.now()
	o := queue.Object{
		Bucket: r.bucket, Key: r.key, VersionID: queue.NewVersionID(now),
		Blob: blob.Digest.String(), Size: blob.Size, ETag: hex.EncodeToString(blob.MD5[:]),
		SHA256: blob.Digest.String(), ContentType: contentType, Metadata: meta,
		Checksums: b.Checksums(), ModTime: now,
	}
	if err := s.idx.PutObject(r.Context(), o); err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", `"`+o.ETag+`"`)
	for alg, v := range o.Checksums {
		h.Set(checksumHeader(alg), v)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkPutConditions implements conditional writes: If-None-Match: * (only if absent)
// and If-Match (only if the current ETag matches). They are checked before the body is
// read; a racing writer between the check and the commit wins, as in S3 before it
// enforced the condition at commit.
func (s *Server) checkPutConditions(r *request) error {
	ifNone, ifMatch := r.Header.Get("If-None-Match"), r.Header.Get("If-Match")
	if ifNone == "" && ifMatch == "" {
		return nil
	}
	cur, err := s.idx.Object(r.bucket, r.key)
	exists := err == nil
	if err != nil && !errors.Is(err, queue.ErrNoSuchKey) {
		return err
	}
	if ifNone != "" && exists && (ifNone == "*" || etagMatches(ifNone, cur.ETag)) {
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

func (s *Server) deleteObject(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	if err := s.idx.DeleteObject(r.Context(), r.bucket, r.key, queue.NewVersionID(s.now())); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
