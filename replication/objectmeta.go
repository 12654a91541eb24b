package replication

import (
	"net/textproto"
	"strings"

	"github.com/ipas/ipas/queue"
)

// The gateway keeps an object's standard headers in queue.Object.Metadata
// under their canonical names, and user metadata as "x-amz-meta-name"
// (gateway/meta.go storedHeaders).
const (
	storedUserPrefix = "x-amz-meta-"
	storedRedirect   = "X-Amz-Website-Redirect-Location"
	storedTagging    = "X-Amz-Tagging"
)

// MetaFromObject is the remote metadata of a journaled object version:
// everything a restore needs to give clients the same object.
func MetaFromObject(o *queue.Object) ObjectMeta {
	m := ObjectMeta{
		Format: MetaFormat, SHA256: o.SHA256, Size: o.Size, ETag: o.ETag, ModTime: o.ModTime,
		ContentType: o.ContentType,
	}
	if len(o.Parts) > 1 || (len(o.Parts) == 1 && strings.Contains(o.ETag, "-")) {
		m.PartSizes = make([]int64, len(o.Parts))
		for i, p := range o.Parts {
			m.PartSizes[i] = p.Size
		}
	}
	if len(o.Checksums) > 0 {
		m.Checksums = make(map[string]string, len(o.Checksums))
		for alg, v := range o.Checksums {
			m.Checksums[alg] = v
		}
	}
	for k, v := range o.Metadata {
		if lower := strings.ToLower(k); strings.HasPrefix(lower, storedUserPrefix) {
			if m.User == nil {
				m.User = map[string]string{}
			}
			m.User[strings.TrimPrefix(lower, storedUserPrefix)] = v
			continue
		}
		switch textproto.CanonicalMIMEHeaderKey(k) {
		case "Cache-Control":
			m.CacheControl = v
		case "Content-Disposition":
			m.ContentDisposition = v
		case "Content-Encoding":
			m.ContentEncoding = v
		case "Content-Language":
			m.ContentLanguage = v
		case "Expires":
			m.Expires = v
		case storedRedirect:
			m.WebsiteRedirect = v
		case storedTagging:
			m.Tagging = v
		default:
			// Not a key the gateway writes: keep it rather than lose it.
			if m.User == nil {
				m.User = map[string]string{}
			}
			m.User[strings.ToLower(k)] = v
		}
	}
	return m
}
