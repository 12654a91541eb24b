package gateway

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/internal/s3name"
	"github.com/ipas/ipas/queue"
)

// responseOverrides are the GetObject query parameters that set a response header,
// used by presigned download links.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

func (s *Server) getObject(w *responseWriter, r *request) error {
	if len(r.key) > s3name.MaxKeyBytes {
		return s3err.ErrKeyTooLongError // no such key can exist
	}
	part, err := s.readPartNumber(r)
	if err != nil {
		return err
	}
	o, err := s.readObject(w, r)
	if err != nil {
		return err
	}
	if !archive.Local(o) && r.Method != http.MethodHead && !s.objects.ReadsThrough() {
		return errRemoteOnly(r.bucket, r.key)
	}
	h := w.Header()
	h.Set("ETag", `"`+o.ETag+`"`)
	h.Set("Last-Modified", o.ModTime.UTC().Format(http.TimeFormat))
	if err := checkConditions(r.Header, "", o); err != nil {
		return err
	}
	var off, length int64
	var ranged bool
	if part > 0 {
		off, length, ranged, err = partRange(o, part)
	} else {
		off, length, ranged, err = parseRange(r.Header.Get("Range"), o.Size)
	}
	if err != nil {
		if errors.Is(err, s3err.ErrInvalidRange) {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
		}
		return err
	}
	writeMetadata(h, o.ContentType, o.Metadata)
	q := r.URL.Query()
	for param, header := range responseOverrides {
		if v := q.Get(param); v != "" {
			h.Set(header, v)
		}
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	h.Set("X-Amz-Storage-Class", s.objectStorageClass(o))
	if !archive.Local(o) && s.objects.ReadsThrough() {
		h.Set(CachedHeader, "false")
	}
	s.writeReplicationStatus(h, o)
	if part > 0 && len(o.Parts) > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(o.Parts)))
	}
	status := http.StatusOK
	if ranged {
		status = http.StatusPartialContent
		h.Set("Content-Range", "bytes "+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+length-1, 10)+"/"+strconv.FormatInt(o.Size, 10))
	}
	// Checksums describe the whole object: a range or a part of a composite object
	// must never carry them, or clients would fail to validate what they got.
	whole := !ranged || (off == 0 && length == o.Size)
	if whole && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		writeChecksums(h, o.Checksums, true)
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return nil
	}
	rc, err := s.openObject(r, o, off, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.WriteHeader(status)
	sw := &stallWriter{w: w, rc: http.NewResponseController(w), timeout: s.cfg.StallTimeout}
	if _, err := io.Copy(sw, rc); err != nil {
		// The status is out; the client sees a short body, which its Content-Length
		// check reports. Corruption in the store is logged loudly.
		r.log.Warn().Err(err).Str("bucket", r.bucket).Str("key", r.key).Msg("get object: body cut short")
	}
	return nil
}

// checkConditions evaluates the conditional headers of a GET or HEAD (prefix "") or
// of a copy source (prefix "X-Amz-Copy-Source-") against o, with the precedence
// of RFC 9110 that S3 follows: If-Match before If-Unmodified-Since, If-None-Match
// before If-Modified-Since. A copy source fails every condition with 412.
func checkConditions(h http.Header, prefix string, o queue.Object) error {
	notModified := s3err.ErrNotModified
	if prefix != "" {
		notModified = s3err.ErrPreconditionFailed
	}
	mod := o.ModTime.Truncate(time.Second)
	if v := h.Get(prefix + "If-Match"); v != "" {
		if !etagMatches(v, o.ETag) {
			return s3err.ErrPreconditionFailed
		}
	} else if t, ok := httpTime(h.Get(prefix + "If-Unmodified-Since")); ok && mod.After(t) {
		return s3err.ErrPreconditionFailed
	}
	if v := h.Get(prefix + "If-None-Match"); v != "" {
		if etagMatches(v, o.ETag) {
			return notModified
		}
	} else if t, ok := httpTime(h.Get(prefix + "If-Modified-Since")); ok && !mod.After(t) {
		return notModified
	}
	return nil
}

func httpTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	return t, err == nil
}

// etagMatches reports whether an If-Match / If-None-Match list names etag (or is *).
func etagMatches(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || strings.Trim(v, `"`) == etag {
			return true
		}
	}
	return false
}

// parseRange resolves a Range header against size. A header that is not exactly
// "bytes=first-last", "bytes=first-" or "bytes=-suffix" in digits (no spaces, one
// range, first <= last) is ignored and the whole object is served, as S3 does. A
// range that starts past the end, or an empty suffix, is InvalidRange; a suffix
// of a 0-byte object is ignored too, since there is nothing to cut.
func parseRange(v string, size int64) (off, length int64, ranged bool, err error) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok || !isDigits(first) || !isDigits(last) || (first == "" && last == "") {
		return 0, size, false, nil
	}
	if first == "" { // suffix: the last n bytes
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil {
			return 0, size, false, nil
		}
		if n == 0 {
			return 0, 0, false, s3err.ErrInvalidRange
		}
		if size == 0 {
			return 0, 0, false, nil
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	start, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil {
		return 0, size, false, nil
	}
	end := size - 1
	if last != "" {
		e, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || e < start {
			return 0, size, false, nil
		}
		end = min(e, size-1)
	}
	if start >= size {
		return 0, 0, false, s3err.ErrInvalidRange
	}
	return start, end - start + 1, true, nil
}

// isDigits reports whether v is empty or only ASCII digits.
func isDigits(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
