package gateway

import (
	"encoding/xml"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// S3's limits on tags.
const (
	maxBucketTags  = 50
	maxObjectTags  = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

var (
	errInvalidTagKey   = &s3err.APIError{Code: "InvalidTag", Message: "The TagKey you have provided is invalid", Status: http.StatusBadRequest}
	errInvalidTagValue = &s3err.APIError{Code: "InvalidTag", Message: "The TagValue you have provided is invalid", Status: http.StatusBadRequest}
	errDuplicateTagKey = &s3err.APIError{Code: "InvalidTag", Message: "Cannot provide multiple Tags with the same key", Status: http.StatusBadRequest}
	errBucketTagLimit  = &s3err.APIError{Code: "BadRequest", Message: "Bucket tag count cannot be greater than 50", Status: http.StatusBadRequest}
	errObjectTagLimit  = &s3err.APIError{Code: "BadRequest", Message: "Object tags cannot be greater than 10", Status: http.StatusBadRequest}
	errNoSuchTagSet    = &s3err.APIError{Code: "NoSuchTagSet", Message: "The TagSet does not exist.", Status: http.StatusNotFound}
)

// tagging is S3's Tagging document.
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tag    `xml:"TagSet>Tag"`
}

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// checkTags applies S3's rules to a tag set: at most limit tags (tooMany),
// keys of 1-128 and values of up to 256 characters made of letters, digits,
// spaces and + - = . _ : / @, no key twice.
func checkTags(tags []tag, limit int, tooMany error) error {
	if len(tags) > limit {
		return tooMany
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n == 0 || n > maxTagKeyLen || !validTagText(t.Key) {
			return errInvalidTagKey
		}
		if utf8.RuneCountInString(t.Value) > maxTagValueLen || !validTagText(t.Value) {
			return errInvalidTagValue
		}
		if seen[t.Key] {
			return errDuplicateTagKey
		}
		seen[t.Key] = true
	}
	return nil
}

func validTagText(s string) bool {
	for _, c := range s {
		switch {
		case unicode.IsLetter(c), unicode.IsDigit(c), unicode.IsSpace(c):
		case c == '+', c == '-', c == '=', c == '.', c == '_', c == ':', c == '/', c == '@':
		default:
			return false
		}
	}
	return true
}

func (s *Server) putBucketTagging(w *responseWriter, r *request) error {
	raw, err := s.readBucketConfig(w, r)
	if err != nil {
		return err
	}
	var t tagging
	if err := decodeXML(raw, &t); err != nil {
		return err
	}
	if err := checkTags(t.TagSet, maxBucketTags, errBucketTagLimit); err != nil {
		return err
	}
	t.Xmlns = s3Namespace
	canonical, err := xml.Marshal(t)
	if err != nil {
		return err
	}
	return s.setBucketSetting(w, r, queue.SettingTagging, string(canonical), http.StatusNoContent)
}

func (s *Server) getBucketTagging(w *responseWriter, r *request) error {
	if s.settings == nil {
		return errNoSettings
	}
	v, ok, err := s.settings.BucketSetting(r.bucket, queue.SettingTagging)
	if err != nil {
		return err
	}
	if !ok {
		return errNoSuchTagSet
	}
	var t tagging
	if err := xml.Unmarshal([]byte(v), &t); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, t)
}
