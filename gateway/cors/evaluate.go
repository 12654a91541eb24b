package cors

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
)

// Headers of the CORS protocol.
const (
	HeaderOrigin         = "Origin"
	HeaderRequestMethod  = "Access-Control-Request-Method"
	HeaderRequestHeaders = "Access-Control-Request-Headers"
	headerAllowOrigin    = "Access-Control-Allow-Origin"
	headerAllowMethods   = "Access-Control-Allow-Methods"
	headerAllowHeaders   = "Access-Control-Allow-Headers"
	headerExposeHeaders  = "Access-Control-Expose-Headers"
	headerMaxAge         = "Access-Control-Max-Age"
	headerAllowCreds     = "Access-Control-Allow-Credentials"
	// vary names what a CORS answer depends on, so that caches keep one per origin.
	vary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
)

// S3's answers to a CORS request it cannot serve.
var (
	ErrMissingOrigin = &s3err.APIError{Code: "BadRequest",
		Message: "Insufficient information. Origin request header needed.", Status: http.StatusBadRequest}
	ErrNotEnabled = &s3err.APIError{Code: "AccessForbidden",
		Message: "CORSResponse: CORS is not enabled for this bucket.", Status: http.StatusForbidden}
	// ErrForbidden keeps S3's spelling ("evalution").
	ErrForbidden = &s3err.APIError{Code: "AccessForbidden",
		Message: "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, " +
			"request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted " +
			"by the resource's CORS spec.", Status: http.StatusForbidden}
)

func errInvalidMethod(m string) error {
	return &s3err.APIError{Code: "BadRequest", Message: "Invalid Access-Control-Request-Method: " + m,
		Status: http.StatusBadRequest}
}

func errInvalidHeader(h string) error {
	return &s3err.APIError{Code: "BadRequest",
		Message: `Access-Control-Request-Headers "` + h + `" contains invalid character.`, Status: http.StatusBadRequest}
}

// Request is what a browser's request asks of a CORS configuration.
type Request struct {
	Origin string
	// Method is Access-Control-Request-Method, or the method of an actual
	// request that does not send one.
	Method string
	// Headers are the Access-Control-Request-Headers, lower-cased.
	Headers []string
	// Preflight marks an OPTIONS request.
	Preflight bool
}

// ParseRequest reads the CORS headers of a request whose method is method
// (OPTIONS for a preflight). A preflight needs an Origin and a valid
// Access-Control-Request-Method.
func ParseRequest(h http.Header, method string) (Request, error) {
	req := Request{Origin: h.Get(HeaderOrigin), Method: method, Preflight: method == http.MethodOptions}
	if req.Preflight && req.Origin == "" {
		return req, ErrMissingOrigin
	}
	if m := h.Get(HeaderRequestMethod); m != "" || req.Preflight {
		req.Method = m
		if !validMethod(m) {
			return req, errInvalidMethod(req.Method)
		}
	}
	for _, v := range h.Values(HeaderRequestHeaders) {
		if v == "" {
			continue
		}
		for _, name := range strings.Split(v, ",") {
			trimmed := strings.TrimSpace(name)
			if !validHeaderName(trimmed) {
				return req, errInvalidHeader(name)
			}
			req.Headers = append(req.Headers, strings.ToLower(trimmed))
		}
	}
	return req, nil
}

// Match returns the first rule that allows req, or nil.
func (c *Configuration) Match(req Request) *Rule {
	for i := range c.Rules {
		if c.Rules[i].allows(req) {
			return &c.Rules[i]
		}
	}
	return nil
}

func (r *Rule) allows(req Request) bool {
	if r.matchOrigin(req.Origin) == "" {
		return false
	}
	ok := false
	for _, m := range r.AllowedMethods {
		ok = ok || m == req.Method
	}
	if !ok {
		return false
	}
	for _, h := range req.Headers {
		if !r.allowsHeader(h) {
			return false
		}
	}
	return true
}

// matchOrigin returns the AllowedOrigin that origin matches, or "".
func (r *Rule) matchOrigin(origin string) string {
	for _, o := range r.AllowedOrigins {
		if wildcardMatch(o, origin, false) {
			return o
		}
	}
	return ""
}

func (r *Rule) allowsHeader(h string) bool {
	for _, a := range r.AllowedHeaders {
		if wildcardMatch(a, h, true) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against a pattern holding at most one '*'.
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	prefix, suffix, wild := strings.Cut(pattern, "*")
	if !wild {
		return pattern == s
	}
	return len(s) >= len(prefix)+len(suffix) && strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix)
}

// SetHeaders adds to h the Access-Control-* headers that rule r grants req.
// A preflight's Allow-Headers are the headers it asked for and its
// Expose-Headers end with ETag, which a browser upload reads; an actual
// request that asks for headers gets the rule's own list.
func (r *Rule) SetHeaders(h http.Header, req Request) {
	origin, creds := req.Origin, "true"
	if r.matchOrigin(req.Origin) == "*" {
		origin, creds = "*", "false"
	}
	h.Set(headerAllowOrigin, origin)
	h.Set(headerAllowMethods, strings.Join(r.AllowedMethods, ", "))
	allow, expose := req.Headers, r.ExposeHeaders
	if req.Preflight {
		expose = append(expose[:len(expose):len(expose)], "ETag")
	} else if len(req.Headers) > 0 {
		allow = make([]string, len(r.AllowedHeaders))
		for i, a := range r.AllowedHeaders {
			allow[i] = strings.ToLower(a)
		}
	}
	if len(allow) > 0 {
		h.Set(headerAllowHeaders, strings.Join(allow, ", "))
	}
	if len(expose) > 0 {
		h.Set(headerExposeHeaders, strings.Join(expose, ", "))
	}
	if r.MaxAgeSeconds != nil {
		h.Set(headerMaxAge, strconv.FormatInt(*r.MaxAgeSeconds, 10))
	}
	h.Set(headerAllowCreds, creds)
	h.Set("Vary", vary)
}
