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

var errInvalidTagging = s3err.ErrInvalidArgument.WithMessage("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.").WithElements(
	s3err.Element{Name: s3err.ElementArgumentName, Value: "x-amz-tagging"}, s3err.Element{Name: s3err.ElementArgumentValue, Value: ""})

// checkRedirect validates x-amz-website-redirect-location as S3 does.
func checkRedirect(v string) error {
	if v == "" || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		return nil
	}
	return s3err.ErrInvalidRedirectLocation
}

// setTagging stores the x-amz-tagging header of h in meta, if it is a valid tag
// set, in the form that ?tagging reads back.
func setTagging(meta map[string]string, h http.Header) error {
	delete(meta, taggingKey)
	v := h.Get("X-Amz-Tagging")
	if v == "" {
		return nil
	}
	tags, err := parseTaggingHeader(v)
	if err != nil {
		return err
	}
	if err := checkTags(tags, maxObjectTags, errObjectTagLimit); err != nil {
		return err
	}
	if len(tags) > 0 {
		meta[taggingKey] = encodeTags(tags)
	}
	return nil
}

// parseTaggingHeader reads x-amz-tagging: URL-encoded key=value pairs joined
// by '&', a value optional, no key empty or twice.
func parseTaggingHeader(v string) ([]tag, error) {
	var tags []tag
	seen := map[string]bool{}
	for _, kv := range strings.Split(v, "&") {
		if kv == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(rawKey)
		val, err2 := url.QueryUnescape(rawValue)
		if err1 != nil || err2 != nil || k == "" || seen[k] {
			return nil, errInvalidTagging
		}
		seen[k] = true
		tags = append(tags, tag{Key: k, Value: val})
	}
	return tags, nil
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
