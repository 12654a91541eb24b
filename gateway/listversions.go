package gateway

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// listVersionsResult is ListObjectVersions' answer. Versions and delete
// markers come interleaved, in S3's order, so each entry names its own
// element (XMLName).
type listVersionsResult struct {
	XMLName             xml.Name                `xml:"ListVersionsResult"`
	Xmlns               string                  `xml:"xmlns,attr"`
	Name                string                  `xml:"Name"`
	Prefix              string                  `xml:"Prefix"`
	KeyMarker           string                  `xml:"KeyMarker"`
	VersionIDMarker     string                  `xml:"VersionIdMarker"`
	NextKeyMarker       string                  `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string                  `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int                     `xml:"MaxKeys"`
	Delimiter           string                  `xml:"Delimiter,omitempty"`
	EncodingType        string                  `xml:"EncodingType,omitempty"`
	IsTruncated         bool                    `xml:"IsTruncated"`
	Entries             []versionEntry          // Version and DeleteMarker elements
	CommonPrefixes      []gofakes3.CommonPrefix `xml:"CommonPrefixes,omitempty"`
}

// versionEntry is a Version or a DeleteMarker element.
type versionEntry struct {
	XMLName           xml.Name
	Key               string               `xml:"Key"`
	VersionID         string               `xml:"VersionId"`
	IsLatest          bool                 `xml:"IsLatest"`
	LastModified      gofakes3.ContentTime `xml:"LastModified"`
	ETag              string               `xml:"ETag,omitempty"`
	Size              *int64               `xml:"Size,omitempty"`
	StorageClass      string               `xml:"StorageClass,omitempty"`
	Owner             gofakes3.UserInfo    `xml:"Owner"`
	ChecksumAlgorithm []string             `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string               `xml:"ChecksumType,omitempty"`
}

var errNegativeMaxKeys = func(v string) error {
	return s3err.ErrInvalidArgument.WithMessage("max-keys cannot be negative").WithElements(
		s3err.Element{Name: s3err.ElementArgumentName, Value: "maxKeys"},
		s3err.Element{Name: s3err.ElementArgumentValue, Value: v})
}

func (s *Server) listObjectVersions(w *responseWriter, r *request) error {
	if s.versions == nil {
		return errNoVersioning
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	q := r.URL.Query()
	maxKeys, enc, err := listLimits(q)
	if v := q.Get("max-keys"); err != nil && strings.HasPrefix(v, "-") {
		return errNegativeMaxKeys(v) // ListObjectVersions' own words
	}
	if err != nil {
		return err
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, versionMarker := q.Get("key-marker"), q.Get("version-id-marker")
	if versionMarker != "" {
		if keyMarker == "" {
			return s3err.ErrInvalidArgument.WithMessage("A version-id marker cannot be specified without a key marker.")
		}
		if err := checkVersionID(versionMarker); err != nil {
			return err
		}
	}
	encode := func(v string) string { return v }
	if enc == "url" {
		encode = urlEncodeKey
	}
	out := listVersionsResult{Xmlns: s3Namespace, Name: r.bucket, Prefix: encode(prefix), KeyMarker: encode(keyMarker),
		VersionIDMarker: versionMarker, MaxKeys: maxKeys, Delimiter: encode(delim), EncodingType: enc}
	owner := gofakes3.UserInfo{ID: r.owner(), DisplayName: r.owner()}
	entries, prefixes, truncated, err := s.listVersions(r.bucket, prefix, delim, keyMarker, versionMarker, maxKeys)
	if err != nil {
		return err
	}
	for _, e := range entries {
		ve := versionEntry{Key: encode(e.Key), VersionID: e.S3VersionID(), IsLatest: e.Latest,
			LastModified: gofakes3.NewContentTime(e.ModTime), Owner: owner}
		if e.DeleteMarker {
			ve.XMLName.Local = "DeleteMarker"
		} else {
			size := e.Size
			ve.XMLName.Local = "Version"
			ve.ETag, ve.Size, ve.StorageClass = `"`+e.ETag+`"`, &size, s.objectStorageClass(e.Object)
			ve.ChecksumAlgorithm, ve.ChecksumType = checksumAlgorithms(e.Checksums), string(checksumType(e.Checksums))
		}
		out.Entries = append(out.Entries, ve)
	}
	for _, p := range prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, gofakes3.CommonPrefix{Prefix: encode(p)})
	}
	if truncated {
		out.IsTruncated = true
		// The marker is the last thing listed: an entry, or a common
		// prefix when that came last.
		lastPrefix := len(prefixes) > 0 && (len(entries) == 0 || prefixes[len(prefixes)-1] > entries[len(entries)-1].Key)
		if lastPrefix {
			out.NextKeyMarker = encode(prefixes[len(prefixes)-1])
		} else if n := len(entries); n > 0 {
			out.NextKeyMarker, out.NextVersionIDMarker = encode(entries[n-1].Key), entries[n-1].S3VersionID()
		}
	}
	return writeXML(w, http.StatusOK, &out)
}

// listVersions pages through the versions after the markers, rolling keys
// up into common prefixes when delim is set, until maxKeys entries and
// prefixes are gathered.
func (s *Server) listVersions(bucket, prefix, delim, keyMarker, versionMarker string, maxKeys int) ([]queue.ObjectVersion, []string, bool, error) {
	if delim != "" {
		if cp, ok := commonPrefix(keyMarker, prefix, delim); ok {
			keyMarker, versionMarker = cp+skipPast, ""
		}
	}
	var entries []queue.ObjectVersion
	var prefixes []string
	if maxKeys == 0 {
		return nil, nil, false, nil
	}
	count := 0
	for {
		page, more, err := s.versions.ListVersions(bucket, prefix, keyMarker, versionMarker, maxKeys-count+1)
		if err != nil {
			return nil, nil, false, err
		}
		jumped := false
		for _, v := range page {
			if count == maxKeys {
				return entries, prefixes, true, nil
			}
			count++
			if cp, ok := commonPrefix(v.Key, prefix, delim); ok {
				prefixes = append(prefixes, cp)
				keyMarker, versionMarker = cp+skipPast, ""
				jumped = true
				break
			}
			entries = append(entries, v)
			keyMarker, versionMarker = v.Key, v.S3VersionID()
		}
		if !jumped && !more {
			return entries, prefixes, false, nil
		}
	}
}
