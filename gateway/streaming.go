package gateway

import (
	"net/http"
	"net/url"

	"github.com/ipas/ipas/gateway/awschunked"
	"github.com/ipas/ipas/gateway/s3err"
)

// checkStreaming refuses an aws-chunked body (x-amz-content-sha256 STREAMING-*) on
// any request but PutObject and UploadPart, as S3 does, before the request is
// routed: a PUT ?tagging with a streaming body is InvalidRequest, not NotImplemented.
func checkStreaming(r *request, q url.Values) error {
	if _, streaming := awschunked.ModeOf(r.Header.Get("X-Amz-Content-Sha256")); !streaming {
		return nil
	}
	if r.Method != http.MethodPut || r.bucket == "" || r.key == "" || q.Has("acl") || q.Has("tagging") || q.Has("cors") {
		return s3err.ErrStreamingNotAllowed
	}
	for _, sub := range unsupported {
		if q.Has(sub) {
			return s3err.ErrStreamingNotAllowed
		}
	}
	return nil
}
