package remote

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ipas/ipas/replication"
)

// encode is the remote form of meta; what did not fit S3's metadata limit
// is logged, and named in the object's own metadata.
func (c *Client) encode(name string, meta replication.ObjectMeta) replication.RemoteHeaders {
	h, dropped := replication.EncodeObjectMeta(meta)
	if len(dropped) > 0 {
		c.log.Warn().Str("name", name).Strs("dropped", dropped).
			Msg("object metadata exceeds the remote's 2 KiB limit: a restore will lack what was dropped")
	}
	return h
}

// objectHeaders are the response fields that decode into a RemoteObject.
type objectHeaders struct {
	size                                      int64
	etag                                      *string
	lastModified                              *time.Time
	contentType, contentEncoding, disposition *string
	language, cacheControl, expiresRaw        *string
	expires                                   *time.Time
	metadata                                  map[string]string
	versionID                                 *string
}

// object decodes what a HEAD or GET answered. A newer layout format is an
// error (wrapped with op and name); the rest is still filled in.
func (o objectHeaders) object(op, name string) (replication.RemoteObject, error) {
	h := replication.RemoteHeaders{
		ContentType: aws.ToString(o.contentType), ContentEncoding: aws.ToString(o.contentEncoding),
		ContentDisposition: aws.ToString(o.disposition), ContentLanguage: aws.ToString(o.language),
		CacheControl: aws.ToString(o.cacheControl), Expires: aws.ToString(o.expiresRaw), Metadata: o.metadata,
	}
	if h.Expires == "" && o.expires != nil {
		h.Expires = o.expires.UTC().Format(http.TimeFormat)
	}
	obj := replication.RemoteObject{Size: o.size, ETag: unquote(o.etag), LastModified: aws.ToTime(o.lastModified),
		VersionID: remoteVersionID(o.versionID)}
	meta, err := replication.DecodeObjectMeta(h)
	obj.Meta = meta
	if err != nil {
		return obj, fmt.Errorf("remote: %s %s: %w", op, name, err)
	}
	return obj, nil
}

func unquote(etag *string) string { return strings.Trim(aws.ToString(etag), `"`) }

// remoteVersionID is the version ID a versioned remote gave an object; ""
// for "null", the ID of an object written while versioning was off.
func remoteVersionID(id *string) string {
	if v := aws.ToString(id); v != "null" {
		return v
	}
	return ""
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// expires parses an HTTP date that EncodeObjectMeta chose to send as a
// header: it round-trips exactly.
func expires(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return nil
	}
	return &t
}
