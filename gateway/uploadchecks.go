package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// copySourceRange parses x-amz-copy-source-range: exactly "bytes=first-last",
// within the source object.
func copySourceRange(v string, size int64) (off, length int64, err error) {
	bad := s3err.ErrInvalidArgument.WithMessage("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, 0, bad
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok || a == "" || b == "" || !isDigits(a) || !isDigits(b) {
		return 0, 0, bad
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || last < first {
		return 0, 0, bad
	}
	if last >= size {
		return 0, 0, s3err.ErrInvalidArgument.WithMessage("Range specified is not valid for source object of size: " + strconv.FormatInt(size, 10))
	}
	return first, last - first + 1, nil
}

// checkInitiated implements x-amz-if-match-initiated-time on AbortMultipartUpload:
// the abort happens only if the upload was initiated at that second. A time in
// the future is ignored, as S3 does.
func checkInitiated(r *request, u queue.Upload, now time.Time) error {
	v := r.Header.Get("X-Amz-If-Match-Initiated-Time")
	if v == "" {
		return nil
	}
	t, err := http.ParseTime(v)
	if err != nil || t.After(now) {
		return nil
	}
	if !u.Created.Truncate(time.Second).Equal(t.Truncate(time.Second)) {
		return s3err.ErrPreconditionFailed
	}
	return nil
}
