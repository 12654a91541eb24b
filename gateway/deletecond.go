package gateway

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// checkDeleteConditions implements the conditional DeleteObject of S3: If-Match,
// x-amz-if-match-size and x-amz-if-match-last-modified-time must all hold for the
// current object, or the delete is PreconditionFailed. A condition on a missing
// object is NoSuchKey.
func (s *Server) checkDeleteConditions(r *request) error {
	ifMatch := r.Header.Get("If-Match")
	size := r.Header.Get("X-Amz-If-Match-Size")
	mod := r.Header.Get("X-Amz-If-Match-Last-Modified-Time")
	if ifMatch == "" && size == "" && mod == "" {
		return nil
	}
	o, err := s.idx.Object(r.bucket, r.key)
	if errors.Is(err, queue.ErrNoSuchKey) {
		return s3err.ErrNoSuchKey
	}
	if err != nil {
		return err
	}
	if ifMatch != "" && !etagMatches(ifMatch, o.ETag) {
		return s3err.ErrPreconditionFailed
	}
	if size != "" {
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n != o.Size {
			return s3err.ErrPreconditionFailed
		}
	}
	if mod != "" {
		t, err := http.ParseTime(mod)
		if err != nil || !t.Equal(o.ModTime.Truncate(time.Second)) {
			return s3err.ErrPreconditionFailed
		}
	}
	return nil
}
