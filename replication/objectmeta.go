package replication

import (
	"maps"
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
		SHA256: o.SHA256, Size: o.Size, ETag: o.ETag, ModTime: o.ModTime,
		ContentType: o.ContentType,
	}
	if len(o.Parts) > 1 || (len(o.Parts) == 1 && strings.Contains(o.ETag, "-")) {
		m.PartSizes = o.PartSizes()
	}
	m.Format = formatOf(m)
	if len(o.Checksums) > 0 {
		m.Checksums = make(map[string]string, len(o.Checksums))
		for alg, v := range o.Checksums {
			m.Checksums[alg] = v
		}
	}
	for k, v := range o.Metadata {
		lower := strings.ToLower(k)
		if strings.HasPrefix(lower, storedUserPrefix) {
			m.setUser(strings.TrimPrefix(lower, storedUserPrefix), v)
		} else if !m.setHeader(lower, v) {
			// Not a key the gateway writes: keep it rather than lose it.
			m.setUser(lower, v)
		}
	}
	return m
}

// ObjectFromMeta is the inverse of MetaFromObject: the index entry of
// bucket/key as the remote metadata m describes it, for a restore. It names
// no bytes: Blob is empty and Parts, for a multipart object, hold only the
// part sizes (the shape of a version whose bytes are on the remote only,
// archive.RemoteOnly). remoteSize, the remote object's size, stands in for
// the size that metadata of format 0 did not record. VersionID and Replica
// are the caller's.
func ObjectFromMeta(bucket, key string, m ObjectMeta, remoteSize int64) queue.Object {
	o := queue.Object{
		Bucket: bucket, Key: key, Size: m.Size, ETag: m.ETag, SHA256: strings.ToLower(m.SHA256), ModTime: m.ModTime,
		ContentType: m.ContentType, Checksums: maps.Clone(m.Checksums),
	}
	if o.Size < 0 {
		o.Size = remoteSize
	}
	for _, s := range m.PartSizes {
		o.Parts = append(o.Parts, queue.ObjectPart{Size: s})
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
	set(storedRedirect, m.WebsiteRedirect)
	set(storedTagging, m.Tagging)
	for k, v := range m.User {
		md[storedUserPrefix+strings.ToLower(k)] = v
	}
	if len(md) > 0 {
		o.Metadata = md
	}
	return o
}
