package gateway

import (
	"encoding/xml"
	"net/url"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// maxListKeys is S3's cap on max-keys (and its default).
const maxListKeys = 1000

// skipPast sorts after every key that starts with the string it is appended to: 0xFF
// never occurs in UTF-8, so cursor+skipPast jumps over a whole common prefix.
const skipPast = "\xff"

// listBucketResult is ListObjects (v1 and v2): gofakes3's types lack EncodingType and
// send KeyCount/MaxKeys only when non-zero.
type listBucketResult struct {
	XMLName               xml.Name                `xml:"ListBucketResult"`
	Xmlns                 string                  `xml:"xmlns,attr"`
	Name                  string                  `xml:"Name"`
	Prefix                *string                 `xml:"Prefix,omitempty"`
	Marker                *string                 `xml:"Marker,omitempty"`
	NextMarker            string                  `xml:"NextMarker,omitempty"`
	StartAfter            *string                 `xml:"StartAfter,omitempty"`
	ContinuationToken     *string                 `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string                  `xml:"NextContinuationToken,omitempty"`
	KeyCount              *int                    `xml:"KeyCount,omitempty"`
	MaxKeys               int                     `xml:"MaxKeys"`
	Delimiter             string                  `xml:"Delimiter,omitempty"`
	EncodingType          string                  `xml:"EncodingType,omitempty"`
	IsTruncated           bool                    `xml:"IsTruncated"`
	Contents              []listContent           `xml:"Contents"`
	CommonPrefixes        []gofakes3.CommonPrefix `xml:"CommonPrefixes,omitempty"`
}

// listing is one page of a listing: keys and common prefixes, in order.
type listing struct {
	objects   []queue.Object
	prefixes  []string
	truncated bool
	cursor    string // where the next page starts (exclusive)
	last      string // the last key or common prefix returned
}

// list pages through the index from after cursor, rolling keys up into common
// prefixes when delim is set, until maxKeys entries are gathered.
func (s *Server) list(bucket, prefix, delim, cursor string, maxKeys int) (listing, error) {
	var l listing
	if delim != "" {
		// A cursor inside a common prefix (a marker naming the prefix itself, or a
		// key under it) must not yield that prefix again.
		if cp, ok := commonPrefix(cursor, prefix, delim); ok {
			cursor = cp + skipPast
		}
	}
	l.cursor = cursor
	if maxKeys == 0 {
		return l, nil
	}
	count := 0
	for {
		objs, more, err := s.idx.ListObjects(bucket, prefix, cursor, maxKeys-count+1)
		if err != nil {
			return l, err
		}
		jumped := false
		for _, o := range objs {
			if count == maxKeys {
				l.truncated = true
				return l, nil
			}
			count++
			if cp, ok := commonPrefix(o.Key, prefix, delim); ok {
				l.prefixes = append(l.prefixes, cp)
				l.last, l.cursor = cp, cp+skipPast
				cursor, jumped = l.cursor, true
				break // skip every other key under cp with one seek
			}
			l.objects = append(l.objects, o)
			l.last, l.cursor, cursor = o.Key, o.Key, o.Key
		}
		if !jumped && !more {
			return l, nil
		}
	}
}

// commonPrefix returns the common prefix key rolls up to under prefix and delim.
func commonPrefix(key, prefix, delim string) (string, bool) {
	if delim == "" || !strings.HasPrefix(key, prefix) {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delim)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delim)], true
}

func (s *Server) listObjects(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	q := r.URL.Query()
	v2 := q.Get("list-type") == "2"
	maxKeys, enc, err := listLimits(q)
	if err != nil {
		return err
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	out := listBucketResult{Xmlns: s3Namespace, Name: r.bucket, MaxKeys: maxKeys, EncodingType: enc}
	cursor := ""
	if v2 {
		cursor = q.Get("start-after")
		if q.Has("continuation-token") {
			// Echoed even when empty, as S3 does; an empty one lists from the start.
			tok := q.Get("continuation-token")
			out.ContinuationToken = &tok
		}
		if tok := q.Get("continuation-token"); tok != "" {
			after, err := decodeContinuation(tok)
			if err != nil {
				return err
			}
			if err := s.checkContinuation(r.bucket, tok, after); err != nil {
				return err
			}
			// A start-after past the token still counts, as in S3.
			cursor = max(cursor, after)
		}
	} else {
		cursor = q.Get("marker")
	}
	l, err := s.list(r.bucket, prefix, delim, cursor, maxKeys)
	if err != nil {
		return err
	}
	encode := func(v string) string { return v }
	if enc == "url" {
		encode = urlEncodeKey
	}
	// S3 sends Prefix (and, in v1, Marker) even when they are empty.
	p := encode(prefix)
	out.Prefix = &p
	out.Delimiter = encode(delim)
	out.IsTruncated = l.truncated
	// v1 entries name their owner; v2 ones only with fetch-owner=true.
	var owner *gofakes3.UserInfo
	if !v2 || q.Get("fetch-owner") == "true" {
		owner = &gofakes3.UserInfo{ID: r.owner(), DisplayName: r.owner()}
	}
	for _, o := range l.objects {
		out.Contents = append(out.Contents, newListContent(gofakes3.Content{
			Key: encode(o.Key), LastModified: gofakes3.NewContentTime(o.ModTime), ETag: `"` + o.ETag + `"`,
			Size: o.Size, StorageClass: gofakes3.StorageClass(s.objectStorageClass(o)), Owner: owner,
		}, o))
	}
	for _, p := range l.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, gofakes3.CommonPrefix{Prefix: encode(p)})
	}
	if v2 {
		n := len(l.objects) + len(l.prefixes)
		out.KeyCount = &n
		if q.Has("start-after") {
			sa := encode(q.Get("start-after"))
			out.StartAfter = &sa
		}
		if l.truncated {
			out.NextContinuationToken = encodeContinuation(l.last)
			s.tokens.add(r.bucket, out.NextContinuationToken)
		}
	} else {
		m := encode(cursor)
		out.Marker = &m
		if l.truncated {
			out.NextMarker = encode(l.last)
		}
	}
	return writeListing(w, &out)
}

// listLimits reads what every listing takes: max-keys (capped at
// maxListKeys) and encoding-type.
func listLimits(q url.Values) (maxKeys int, enc string, err error) {
	maxKeys = maxListKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := parseListInt(v)
		if err != nil {
			return 0, "", err
		}
		maxKeys = min(n, maxListKeys)
	}
	enc = q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return 0, "", s3err.ErrInvalidArgument.WithMessage("Invalid Encoding Method specified in Request.")
	}
	return maxKeys, enc, nil
}

// urlEncodeKey encodes a key the way S3 does for encoding-type=url: every byte
// but the unreserved ones and '/' percent-encoded, a space as %20.
func urlEncodeKey(v string) string {
	return keyEncoder.Replace(url.QueryEscape(v))
}

var keyEncoder = strings.NewReplacer("+", "%20", "%2F", "/")
