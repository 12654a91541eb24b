package lifecycle

import (
	"encoding/xml"
	"strconv"
)

// Limits of a configuration, as in S3.
const (
	// MaxRules is the most rules a configuration may hold.
	MaxRules = 1000
	// MaxIDLen is the longest rule ID, in bytes.
	MaxIDLen = 255
	// MaxNewerNoncurrentVersions is the most noncurrent versions a rule may keep.
	MaxNewerNoncurrentVersions = 100
)

// Rule statuses.
const (
	StatusEnabled  = "Enabled"
	StatusDisabled = "Disabled"
)

// namespace is the XML namespace of S3 documents.
const namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Configuration is a bucket's lifecycle configuration, in S3's XML.
type Configuration struct {
	XMLName xml.Name `xml:"LifecycleConfiguration"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []Rule   `xml:"Rule"`
}

// Rule is one lifecycle rule: which keys (Filter, or the legacy Prefix) and
// what to do with them.
type Rule struct {
	ID string `xml:"ID,omitempty"`
	// Filter selects keys by prefix; an empty Filter selects every key.
	Filter *Filter `xml:"Filter,omitempty"`
	// Prefix is the filter of rules written before Filter existed.
	Prefix *string `xml:"Prefix,omitempty"`
	Status string  `xml:"Status"`

	Expiration                     *Expiration                     `xml:"Expiration,omitempty"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `xml:"NoncurrentVersionExpiration,omitempty"`
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `xml:"AbortIncompleteMultipartUpload,omitempty"`
}

// Filter is a rule's key filter.
type Filter struct {
	Prefix *string `xml:"Prefix,omitempty"`
}

// Expiration removes a delete marker once it is the only version of its key
// (ExpiredObjectDeleteMarker).
type Expiration struct {
	ExpiredObjectDeleteMarker *bool `xml:"ExpiredObjectDeleteMarker,omitempty"`
}

// NoncurrentVersionExpiration removes a noncurrent version NoncurrentDays
// after it became noncurrent, keeping the NewerNoncurrentVersions newest
// noncurrent versions whatever their age.
type NoncurrentVersionExpiration struct {
	NoncurrentDays          int  `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions,omitempty"`
}

// AbortIncompleteMultipartUpload aborts a multipart upload DaysAfterInitiation
// after it was created.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation int `xml:"DaysAfterInitiation"`
}

// Enabled reports whether the rule applies.
func (r *Rule) Enabled() bool { return r.Status == StatusEnabled }

// KeyPrefix is the prefix of the keys the rule applies to ("" for all).
func (r *Rule) KeyPrefix() string {
	switch {
	case r.Filter != nil && r.Filter.Prefix != nil:
		return *r.Filter.Prefix
	case r.Prefix != nil:
		return *r.Prefix
	}
	return ""
}

// Marshal returns the configuration's canonical XML, what the gateway stores
// and GetBucketLifecycleConfiguration answers.
func (c *Configuration) Marshal() ([]byte, error) {
	out := *c
	out.Xmlns = namespace
	return xml.Marshal(&out)
}

// Parse reads and checks a PutBucketLifecycleConfiguration body. Errors are
// S3's: MalformedXML for a document that does not parse or does not follow
// the schema (no rules, more than MaxRules, a bad Status, an element S3 does
// not know), InvalidArgument for a bad value, InvalidRequest for a rule
// without an action, and NotImplemented, naming the element, for the parts of
// S3's lifecycle this gateway does not apply.
func Parse(body []byte) (*Configuration, error) {
	var d document
	if err := xml.Unmarshal(body, &d); err != nil || d.XMLName.Local != "LifecycleConfiguration" {
		return nil, errMalformedXML
	}
	if len(d.Unknown) > 0 || len(d.Rules) == 0 || len(d.Rules) > MaxRules {
		return nil, errMalformedXML
	}
	c := &Configuration{Xmlns: namespace, Rules: make([]Rule, len(d.Rules))}
	ids := make(map[string]bool, len(d.Rules))
	for i := range d.Rules {
		r, err := d.Rules[i].rule()
		if err != nil {
			return nil, err
		}
		if r.ID != "" {
			if ids[r.ID] {
				return nil, invalidArgument("Rule ID must be unique. Found same ID for more than one rule")
			}
			ids[r.ID] = true
		}
		c.Rules[i] = r
	}
	return c, nil
}

// ParseStored reads a configuration Marshal wrote.
func ParseStored(stored string) (*Configuration, error) {
	var c Configuration
	if err := xml.Unmarshal([]byte(stored), &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// positive reads a whole number of at least 1: InvalidArgument naming the
// element otherwise.
func positive(v *string, element, action string) (int, error) {
	if v == nil {
		return 0, errMalformedXML
	}
	n, err := strconv.Atoi(*v)
	if err != nil {
		return 0, errMalformedXML
	}
	if n < 1 {
		return 0, invalidArgument("'" + element + "' for " + action + " action must be a positive integer")
	}
	return n, nil
}
