package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// websiteRedirectHeader is stored with an object, under this name, and returned on
// GET and HEAD; the gateway serves no website, it only keeps what clients set.
const websiteRedirectHeader = "X-Amz-Website-Redirect-Location"

// taggingKey keeps an object's tag set in its metadata, URL-encoded as the
// x-amz-tagging header carries it. GET and HEAD report only the tag count;
// ?tagging reads and replaces the set (objecttagging.go).
const taggingKey = "X-Amz-Tagging"

var errInvalidTagging = s3err.ErrInvalidArgument.WithMessage("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")

// checkRedirect validates x-amz-website-redirect-location as S3 does.
func checkRedirect(v string) error {
	if v == "" || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		return nil
	}
	return s3err.ErrInvalidRedirectLocation
}

// setTagging stores the x-amz-tagging header of h in meta, if it is a valid tag set.
func setTagging(meta map[string]string, h http.Header) error {
	v := h.Get("X-Amz-Tagging")
	if v == "" {
		delete(meta, taggingKey)
		return nil
	}
	q, err := url.ParseQuery(v)
	if err != nil {
		return errInvalidTagging
	}
	for _, vs := range q {
		if len(vs) > 1 {
			return errInvalidTagging
		}
	}
	meta[taggingKey] = v
	return nil
}

// tagCount is the number of tags in a stored tag set.
func tagCount(v string) int {
	q, _ := url.ParseQuery(v)
	return len(q)
}

// replicationIndex is implemented by an Index that knows whether a version
// is on the remote (*queue.Node).
type replicationIndex interface {
	Replication(o queue.Object) (queue.ReplicationState, error)
}

// writeReplicationStatus sets x-amz-replication-status as S3 does for a
// replicated bucket: PENDING, FAILED or COMPLETED. A version whose state is
// unknown (journaled before states were recorded) gets no header, as S3
// sends none for an object outside its replication rules; so does one whose
// state cannot be read, since the header must not fail the GET.
func (s *Server) writeReplicationStatus(h http.Header, o queue.Object) {
	ri, ok := s.idx.(replicationIndex)
	if !ok {
		return
	}
	if st, err := ri.Replication(o); err == nil && st != queue.ReplicationUnknown {
		h.Set("X-Amz-Replication-Status", st.String())
	}
}
