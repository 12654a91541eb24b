package restore

import (
	"maps"
	"strings"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
)

// Keys of queue.Object.Metadata, as the gateway stores them: standard headers
// by their canonical name, user metadata lower case with its prefix.
// replication.MetaFromObject reads the same keys; TestObjectFromMeta_Inverse
// keeps the two in step.
const (
	keyUserPrefix = "x-amz-meta-"
	keyRedirect   = "X-Amz-Website-Redirect-Location"
	keyTagging    = "X-Amz-Tagging"
)

// objectFromMeta is the index entry (without its bytes) of a remote object
// whose metadata was decoded from a HEAD: the inverse of
// replication.MetaFromObject.
func objectFromMeta(name string, ro replication.RemoteObject) remoteindex.Object {
	m := ro.Meta
	bucket, key, _ := strings.Cut(name, "/")
	o := remoteindex.Object{
		Bucket: bucket, Key: key, Size: m.Size, ETag: m.ETag, SHA256: strings.ToLower(m.SHA256), ModTime: m.ModTime,
		ContentType: m.ContentType, Checksums: maps.Clone(m.Checksums),
	}
	if o.Size < 0 { // format 0 did not record it
		o.Size = ro.Size
	}
	if len(m.Dropped) > 0 {
		o.Dropped = append([]string(nil), m.Dropped...)
	}
	if len(m.PartSizes) > 0 {
		o.PartSizes = append([]int64(nil), m.PartSizes...)
	}
	md := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			md[k] = v
		}
	}
	set("Cache-Control", m.CacheControl)
	set("Content-Disposition", m.ContentDisposition)
	set("Content-Encoding", m.ContentEncoding)
	set("Content-Language", m.ContentLanguage)
	set("Expires", m.Expires)
	set(keyRedirect, m.WebsiteRedirect)
	set(keyTagging, m.Tagging)
	for k, v := range m.User {
		md[keyUserPrefix+strings.ToLower(k)] = v
	}
	if len(md) > 0 {
		o.Metadata = md
	}
	return o
}
