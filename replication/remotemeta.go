package replication

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/objecthash"
)

// MetaFormat is the newest layout version, written in every remote object
// (MetaFormatKey) whose hash is composite (package objecthash): format 2.
// An object with a full SHA-256 is written as MetaFormatFull, which IPAS
// before format 2 reads too; an older IPAS refuses a format 2 object with
// ErrUnknownFormat instead of finding its hash malformed. Objects written
// before the key existed are format 0. docs/remote-layout.md describes
// each version.
const MetaFormat = 2

// MetaFormatFull is the layout version of an object with a full SHA-256.
const MetaFormatFull = 1

// formatOf is the layout version m is written in.
func formatOf(m ObjectMeta) int {
	if objecthash.IsComposite(m.SHA256) {
		return MetaFormat
	}
	return MetaFormatFull
}

// Metadata keys (x-amz-meta-*) of layout format 1. S3 lower-cases metadata
// keys; all of IPAS's own start with "ipas-".
const (
	MetaFormatKey = "ipas-format"  // layout version, decimal
	MetaSHA256    = "ipas-sha256"  // the object's hash: hex SHA-256, or composite "hex-N" (format 2)
	MetaSize      = "ipas-size"    // decimal bytes of the object
	MetaETag      = "ipas-etag"    // the ETag clients saw, unquoted ("md5hex" or "md5hex-N")
	MetaDropped   = "ipas-dropped" // what did not fit in S3's 2 KiB (DroppedMTime...)
	MetaModTime   = "ipas-mtime"   // RFC 3339 with nanoseconds, UTC
	MetaParts     = "ipas-parts"   // part sizes, run-length: "8388608*12,1234"
	MetaExpires   = "ipas-expires" // Expires, when it is not an HTTP date S3 can keep as is
	MetaRedirect  = "ipas-redirect"
	MetaTagging   = "ipas-tagging"
	// MetaVersionID is the local version ID of an object of a versioned
	// bucket ("null" for its null version), so that the remote's versions
	// can be told apart without IPAS's index. Never dropped.
	MetaVersionID = "ipas-version-id"
	// MetaChecksumPrefix + lower-case algorithm holds "TYPE:value", e.g.
	// ipas-checksum-crc32: "COMPOSITE:AAAAAA==-3".
	MetaChecksumPrefix = "ipas-checksum-"
	// metaUserEscape prefixes a user key that starts with "ipas-" itself.
	metaUserEscape = "ipas-user-"
	metaPrefix     = "ipas-"
)

// MaxRemoteMetadata is S3's limit on user metadata: the bytes of every key
// (without x-amz-meta-) and value.
const MaxRemoteMetadata = 2 << 10

// What MetaDropped lists, in the order it is dropped when the metadata does
// not fit MaxRemoteMetadata: the last things a restore needs go first.
const (
	DroppedParts    = "parts"
	DroppedUser     = "user-metadata"
	DroppedTagging  = "tagging"
	DroppedRedirect = "redirect"
	DroppedExpires  = "expires"
	DroppedChecksum = "checksums"
	DroppedModTime  = "mtime"
)

// ObjectMeta is what the remote object carries besides its bytes, so that
// the remote alone can rebuild the object as clients saw it.
type ObjectMeta struct {
	Format  int    // layout version read back; MetaFormat when writing
	SHA256  string // the object's hash (package objecthash): lowercase hex, or composite "hex-N"
	Size    int64
	ETag    string // the local ETag, unquoted
	ModTime time.Time
	// VersionID is the local version ID, for a version of a versioned
	// bucket only (MetaVersionID); "" for an unversioned bucket.
	VersionID string
	// PartSizes are the sizes of the parts of a multipart object, so that
	// GET ?partNumber= answers the same after a restore, and so that the
	// bytes can be checked against a composite SHA256; nil for one piece.
	PartSizes []int64
	// Checksums are the stored checksums: algorithm ("CRC32") -> value, a
	// composite one written "value-N".
	Checksums map[string]string

	ContentType, ContentEncoding, ContentDisposition string
	ContentLanguage, CacheControl, Expires           string
	WebsiteRedirect                                  string            // x-amz-website-redirect-location
	Tagging                                          string            // the x-amz-tagging header, URL-encoded
	User                                             map[string]string // without x-amz-meta-, lower case

	// Dropped lists what did not fit the remote's metadata (Dropped*
	// constants); set when read back.
	Dropped []string
}

// RemoteHeaders is an object's metadata as S3 carries it: standard headers,
// which any S3 tool shows, and x-amz-meta-* entries.
type RemoteHeaders struct {
	ContentType, ContentEncoding, ContentDisposition string
	ContentLanguage, CacheControl                    string
	Expires                                          string            // an HTTP date (http.TimeFormat) or ""
	Metadata                                         map[string]string // without x-amz-meta-, lower case
}

// metaItem is one optional metadata entry, kept if it fits.
type metaItem struct {
	group string // a Dropped* constant
	key   string
	value string
}

func (i metaItem) size() int { return len(i.key) + len(i.value) }

// EncodeObjectMeta turns m into what is sent to S3, within
// MaxRemoteMetadata. The format, SHA-256, size and ETag are never dropped,
// nor the part sizes of an object with a composite hash, which a check of
// its bytes needs (objecthash.Fits keeps them short enough to fit); the rest is kept in the reverse order of the Dropped* constants (user
// metadata smallest entry first), and what did not fit is named in
// MetaDropped and returned.
func EncodeObjectMeta(m ObjectMeta) (RemoteHeaders, []string) {
	h := RemoteHeaders{ContentType: m.ContentType, ContentEncoding: m.ContentEncoding,
		ContentDisposition: m.ContentDisposition, ContentLanguage: m.ContentLanguage, CacheControl: m.CacheControl}
	md := map[string]string{MetaFormatKey: strconv.Itoa(formatOf(m)), MetaSize: strconv.FormatInt(m.Size, 10)}
	if m.SHA256 != "" {
		md[MetaSHA256] = m.SHA256
	}
	if m.ETag != "" {
		md[MetaETag] = m.ETag
	}
	if m.VersionID != "" {
		md[MetaVersionID] = m.VersionID
	}
	var items []metaItem
	if !m.ModTime.IsZero() {
		items = append(items, metaItem{DroppedModTime, MetaModTime, m.ModTime.UTC().Format(time.RFC3339Nano)})
	}
	for _, alg := range sortedKeys(m.Checksums) {
		v := m.Checksums[alg]
		items = append(items, metaItem{DroppedChecksum, MetaChecksumPrefix + strings.ToLower(alg), checksumType(v) + ":" + v})
	}
	if m.Expires != "" {
		if httpDate(m.Expires) {
			h.Expires = m.Expires
		} else {
			items = append(items, metaItem{DroppedExpires, MetaExpires, m.Expires})
		}
	}
	if m.WebsiteRedirect != "" {
		items = append(items, metaItem{DroppedRedirect, MetaRedirect, m.WebsiteRedirect})
	}
	if m.Tagging != "" {
		items = append(items, metaItem{DroppedTagging, MetaTagging, m.Tagging})
	}
	user := make([]metaItem, 0, len(m.User))
	for k, v := range m.User {
		k = strings.ToLower(k)
		if strings.HasPrefix(k, metaPrefix) {
			k = metaUserEscape + k
		}
		user = append(user, metaItem{DroppedUser, k, v})
	}
	sort.Slice(user, func(a, b int) bool {
		if user[a].size() != user[b].size() {
			return user[a].size() < user[b].size()
		}
		return user[a].key < user[b].key
	})
	items = append(items, user...)
	if len(m.PartSizes) > 0 {
		if formatOf(m) == MetaFormat {
			md[MetaParts] = EncodePartSizes(m.PartSizes)
		} else {
			items = append(items, metaItem{DroppedParts, MetaParts, EncodePartSizes(m.PartSizes)})
		}
	}
	dropped := fit(md, items)
	if len(dropped) > 0 {
		md[MetaDropped] = strings.Join(dropped, ",")
	}
	h.Metadata = md
	return h, dropped
}

// fit adds items to md in order while they fit MaxRemoteMetadata, leaving
// room for the MetaDropped entry, and returns the groups left out.
func fit(md map[string]string, items []metaItem) []string {
	base := 0
	for k, v := range md {
		base += len(k) + len(v)
	}
	reserve := 0
	for {
		used, kept := base, make([]bool, len(items))
		for i, it := range items {
			if used+it.size() <= MaxRemoteMetadata-reserve {
				used += it.size()
				kept[i] = true
			}
		}
		var dropped []string
		for i, it := range items {
			if !kept[i] && !slices.Contains(dropped, it.group) {
				dropped = append(dropped, it.group)
			}
		}
		need := 0
		if len(dropped) > 0 {
			need = len(MetaDropped) + len(strings.Join(dropped, ","))
		}
		if need <= reserve {
			for i, it := range items {
				if kept[i] {
					md[it.key] = it.value
				}
			}
			return dropped
		}
		reserve = need
	}
}

// checksumType is the S3 checksum type of a stored value: a composite one
// ends in "-N" (the part count), which base64 never contains.
func checksumType(v string) string {
	if strings.Contains(v, "-") {
		return "COMPOSITE"
	}
	return "FULL_OBJECT"
}

// httpDate reports whether v survives a trip through S3's Expires header
// unchanged: S3 keeps it as a date and writes it back in http.TimeFormat.
func httpDate(v string) bool {
	t, err := http.ParseTime(v)
	return err == nil && t.UTC().Format(http.TimeFormat) == v
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
