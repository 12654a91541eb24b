package cors

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
)

// MaxRules is the most rules a configuration may hold, as in S3.
const MaxRules = 100

// namespace is the XML namespace of S3 documents.
const namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Configuration is a bucket's CORS configuration, in S3's XML.
type Configuration struct {
	XMLName xml.Name `xml:"CORSConfiguration"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []Rule   `xml:"CORSRule"`
}

// Rule is one CORSRule: who (AllowedOrigin) may do what (AllowedMethod) with
// which request headers (AllowedHeader), which response headers the browser
// may show the page (ExposeHeader), and how long it may cache a preflight.
type Rule struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int64   `xml:"MaxAgeSeconds"`
}

// methods are the methods a rule may allow; S3 compares them case-sensitively.
var methods = []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodPost, http.MethodDelete}

// Parse reads and checks a PutBucketCors body. Errors are S3's: MalformedXML
// for a document that does not parse or lacks rules, origins or methods,
// InvalidRequest for a bad method, origin or header.
func Parse(body []byte) (*Configuration, error) {
	var c Configuration
	if err := xml.Unmarshal(body, &c); err != nil || c.XMLName.Local != "CORSConfiguration" {
		return nil, s3err.ErrMalformedXML
	}
	if len(c.Rules) == 0 {
		return nil, s3err.ErrMalformedXML
	}
	if len(c.Rules) > MaxRules {
		return nil, s3err.ErrInvalidRequest.WithMessage("The number of CORS rules should not exceed allowed limit of 100 rules.")
	}
	for i := range c.Rules {
		if err := c.Rules[i].check(); err != nil {
			return nil, err
		}
	}
	c.Xmlns = namespace
	return &c, nil
}

func (r *Rule) check() error {
	if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
		return s3err.ErrMalformedXML
	}
	for _, m := range r.AllowedMethods {
		if !validMethod(m) {
			return s3err.ErrInvalidRequest.WithMessage("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
		}
	}
	for _, o := range r.AllowedOrigins {
		if strings.Count(o, "*") > 1 {
			return s3err.ErrInvalidRequest.WithMessage(`AllowedOrigin "` + o + `" can not have more than one wildcard.`)
		}
	}
	for _, list := range [][]string{r.AllowedHeaders, r.ExposeHeaders} {
		for _, h := range list {
			if !validHeaderName(h) {
				// S3 names AllowedHeader for a bad ExposeHeader too.
				return s3err.ErrInvalidRequest.WithMessage(`AllowedHeader "` + h + `" contains invalid character.`)
			}
		}
	}
	return nil
}

// Marshal returns the configuration as GetBucketCors answers it.
func (c *Configuration) Marshal() ([]byte, error) {
	c.Xmlns = namespace
	return xml.Marshal(c)
}

func validMethod(m string) bool {
	for _, v := range methods {
		if m == v {
			return true
		}
	}
	return false
}

// validHeaderName reports whether name is an HTTP token (RFC 9110); '*', a
// token character, is also a rule's wildcard.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
