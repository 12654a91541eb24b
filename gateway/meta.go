package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ipas/ipas/gateway/awschunked"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/internal/s3name"
)

// storedHeaders are the standard headers kept with an object, by their canonical
// name, which is also their key in queue.Object.Metadata. Content-Type has its own
// field. Nothing else of a request is stored: request plumbing (x-amz-date,
// x-amz-content-sha256, checksums...) must never be replayed on GET.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires",
	websiteRedirectHeader}

// userMetaPrefix starts the user metadata headers, stored lower case as S3 returns them.
const userMetaPrefix = "x-amz-meta-"

// maxUserMetadata is S3's limit on the size of user metadata (names plus values).
const maxUserMetadata = 2 << 10

// defaultContentType is what S3 reports for an object stored without one.
const defaultContentType = "binary/octet-stream"

// metadataFromRequest returns the content type and metadata a PUT, a Create of a
// multipart upload or a REPLACE copy stores.
func metadataFromRequest(h http.Header) (contentType string, meta map[string]string, err error) {
	meta = map[string]string{}
	for _, name := range storedHeaders {
		v := h.Get(name)
		if name == "Content-Encoding" {
			v = awschunked.StripContentEncoding(v)
		}
		if v != "" {
			meta[name] = v
		}
	}
	size := 0
	for name, vs := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, userMetaPrefix) {
			continue
		}
		v := strings.Join(vs, ",")
		meta[lower] = v
		size += len(lower) - len(userMetaPrefix) + len(v)
	}
	if size > maxUserMetadata {
		return "", nil, s3err.ErrMetadataTooLarge
	}
	if err := checkRedirect(meta[websiteRedirectHeader]); err != nil {
		return "", nil, err
	}
	if err := setTagging(meta, h); err != nil {
		return "", nil, err
	}
	if len(meta) == 0 {
		meta = nil
	}
	return h.Get("Content-Type"), meta, nil
}

// writeMetadata sets an object's stored headers on a response.
func writeMetadata(h http.Header, contentType string, meta map[string]string) {
	if contentType == "" {
		contentType = defaultContentType
	}
	h.Set("Content-Type", contentType)
	for k, v := range meta {
		if k == taggingKey {
			h.Set("X-Amz-Tagging-Count", strconv.Itoa(tagCount(v)))
			continue
		}
		if strings.HasPrefix(k, userMetaPrefix) {
			h[k] = []string{v} // as stored, lower case, like S3
		} else {
			h.Set(k, v)
		}
	}
}

// checkKey refuses keys S3 would refuse; every other key is opaque.
func checkKey(key string) error {
	if len(key) > s3name.MaxKeyBytes {
		return s3err.ErrKeyTooLongError
	}
	if err := s3name.CheckKey(key); err != nil {
		return s3err.ErrInvalidArgument.WithMessage("Object key is not valid: it must be 1 to 1024 bytes of UTF-8 without NUL.")
	}
	return nil
}
