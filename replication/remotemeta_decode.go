package replication

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DecodeObjectMeta reads back what EncodeObjectMeta wrote, or the metadata
// of format 0 (before MetaFormatKey). An entry it cannot parse is reported
// in Dropped. A newer format returns ErrUnknownFormat with Format set.
func DecodeObjectMeta(h RemoteHeaders) (ObjectMeta, error) {
	m := ObjectMeta{ContentType: h.ContentType, ContentEncoding: h.ContentEncoding,
		ContentDisposition: h.ContentDisposition, ContentLanguage: h.ContentLanguage,
		CacheControl: h.CacheControl, Expires: h.Expires}
	md := make(map[string]string, len(h.Metadata))
	for k, v := range h.Metadata {
		md[strings.ToLower(k)] = v
	}
	if v, ok := md[MetaFormatKey]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return m, fmt.Errorf("replication: decode metadata: %s %q: %w", MetaFormatKey, v, ErrUnknownFormat)
		}
		m.Format = n
	}
	if m.Format > MetaFormat {
		return m, fmt.Errorf("replication: decode metadata: format %d, this program reads up to %d: %w", m.Format, MetaFormat, ErrUnknownFormat)
	}
	bad := func(group string) {
		if !slices.Contains(m.Dropped, group) {
			m.Dropped = append(m.Dropped, group)
		}
	}
	for k, v := range md {
		switch {
		case k == MetaFormatKey:
		case k == MetaSHA256:
			m.SHA256 = v
		case k == MetaSize:
			m.Size, _ = strconv.ParseInt(v, 10, 64)
		case k == MetaETag:
			m.ETag = v
		case k == MetaVersionID:
			m.VersionID = v
		case k == MetaDropped:
			for _, g := range strings.Split(v, ",") {
				bad(g)
			}
		case k == MetaModTime:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				bad(DroppedModTime)
				continue
			}
			m.ModTime = t
		case k == MetaParts:
			ps, err := DecodePartSizes(v)
			if err != nil {
				bad(DroppedParts)
				continue
			}
			m.PartSizes = ps
		case k == MetaExpires:
			m.Expires = v
		case k == MetaRedirect:
			m.WebsiteRedirect = v
		case k == MetaTagging:
			m.Tagging = v
		case strings.HasPrefix(k, MetaChecksumPrefix):
			_, val, ok := strings.Cut(v, ":")
			if !ok {
				bad(DroppedChecksum)
				continue
			}
			if m.Checksums == nil {
				m.Checksums = map[string]string{}
			}
			m.Checksums[strings.ToUpper(strings.TrimPrefix(k, MetaChecksumPrefix))] = val
		case strings.HasPrefix(k, metaUserEscape):
			m.setUser(strings.TrimPrefix(k, metaUserEscape), v)
		case m.Format == 0:
			m.decodeFormat0(k, v)
		case strings.HasPrefix(k, metaPrefix):
			// A key of this format that this version does not use: ignore.
		default:
			m.setUser(k, v)
		}
	}
	if m.Format == 0 && m.Size == 0 {
		m.Size = -1 // unknown: format 0 did not record it
	}
	sort.Strings(m.Dropped)
	return m, nil
}

// decodeFormat0 reads an entry of the first layout, which put the gateway's
// stored headers ("cache-control") and user metadata ("x-amz-meta-owner")
// into the remote's user metadata as they were.
func (m *ObjectMeta) decodeFormat0(k, v string) {
	if !m.setHeader(k, v) {
		m.setUser(strings.TrimPrefix(k, "x-amz-meta-"), v)
	}
}

// setHeader sets the field of the stored header name (lower case), and
// reports false when name is none of them.
func (m *ObjectMeta) setHeader(name, v string) bool {
	switch name {
	case "cache-control":
		m.CacheControl = v
	case "content-disposition":
		m.ContentDisposition = v
	case "content-encoding":
		m.ContentEncoding = v
	case "content-language":
		m.ContentLanguage = v
	case "expires":
		m.Expires = v
	case "x-amz-website-redirect-location":
		m.WebsiteRedirect = v
	case "x-amz-tagging":
		m.Tagging = v
	default:
		return false
	}
	return true
}

func (m *ObjectMeta) setUser(k, v string) {
	if m.User == nil {
		m.User = map[string]string{}
	}
	m.User[k] = v
}

// EncodePartSizes writes part sizes run-length encoded: "8388608*12,1234"
// is twelve parts of 8 MiB and one of 1234 bytes.
func EncodePartSizes(sizes []int64) string {
	var b strings.Builder
	for i := 0; i < len(sizes); {
		n := 1
		for i+n < len(sizes) && sizes[i+n] == sizes[i] {
			n++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(sizes[i], 10))
		if n > 1 {
			b.WriteByte('*')
			b.WriteString(strconv.Itoa(n))
		}
		i += n
	}
	return b.String()
}

// maxParts bounds a decoded part list, as S3 bounds an upload.
const maxParts = 10000

// DecodePartSizes reads what EncodePartSizes wrote.
func DecodePartSizes(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	for _, run := range strings.Split(s, ",") {
		size, count, found := strings.Cut(run, "*")
		n := 1
		if found {
			var err error
			if n, err = strconv.Atoi(count); err != nil || n < 1 {
				return nil, fmt.Errorf("replication: decode part sizes %q: bad count %q", s, count)
			}
		}
		v, err := strconv.ParseInt(size, 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("replication: decode part sizes %q: bad size %q", s, size)
		}
		if len(out)+n > maxParts {
			return nil, fmt.Errorf("replication: decode part sizes %q: more than %d parts", s, maxParts)
		}
		for range n {
			out = append(out, v)
		}
	}
	return out, nil
}
