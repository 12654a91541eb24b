package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// canonicalRequest builds the SigV4 canonical request of r as S3 defines it. excludeQuery
// names a query parameter left out (X-Amz-Signature for presigned URLs).
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash, excludeQuery string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.EscapedPath()))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, excludeQuery))
	b.WriteByte('\n')
	for _, h := range signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI re-encodes the path the client sent with the SigV4 rules. S3 neither
// normalises the path (no "." or ".." removal, no slash merging) nor encodes it twice.
// Starting from the escaped form rather than URL.Path keeps an escaped slash (%2F)
// distinct from a path separator, as it was when the client signed it.
func canonicalURI(escaped string) string {
	if escaped == "" {
		return "/"
	}
	return reencode(escaped, false)
}

// canonicalQuery sorts and re-encodes the raw query. Parameters are decoded and then
// encoded with the SigV4 rules so that clients escaping differently on the wire (for
// example "!" or "%21") all produce the same canonical form.
func canonicalQuery(raw, exclude string) string {
	if raw == "" {
		return ""
	}
	type param struct{ k, v string }
	var params []param
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if exclude != "" && unescapeLoose(k) == exclude {
			continue
		}
		params = append(params, param{reencode(k, true), reencode(v, true)})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// reencode decodes every valid %XX escape of s and encodes the result with the SigV4
// rules: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, everything else becomes
// upper-case %XX. A literal '/' stays unless encodeSlash; an escaped one stays escaped.
// An invalid escape is taken literally, so the '%' is encoded.
func reencode(s string, encodeSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		literalSlash := c == '/'
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
			literalSlash = false
		}
		switch {
		case isUnreserved(c), literalSlash && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&0x0f])
		}
	}
	return b.String()
}

// unescapeLoose decodes valid %XX escapes and leaves everything else as is.
func unescapeLoose(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// headerValue returns the canonical value of signed header name (lower case): all
// values joined by ',' after trimming and collapsing runs of spaces. net/http moves
// Host, and for chunked bodies Transfer-Encoding, out of r.Header; they are read back
// from where it put them.
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		values = []string{host}
	case "transfer-encoding":
		values = r.Header.Values(name)
		if len(values) == 0 && len(r.TransferEncoding) > 0 {
			values = []string{strings.Join(r.TransferEncoding, ",")}
		}
	case "content-length":
		values = r.Header.Values(name)
		if len(values) == 0 && r.ContentLength > 0 {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		values = r.Header.Values(name)
	}
	trimmed := make([]string, len(values)) // values aliases r.Header: never modify it
	for i, v := range values {
		trimmed[i] = trimAll(v)
	}
	return strings.Join(trimmed, ",")
}

// trimAll removes leading and trailing spaces and collapses inner runs of spaces into
// one, the SigV4 "Trimall" of header values.
func trimAll(v string) string {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// stringToSign is the SigV4 string to sign for a canonical request.
func stringToSign(amzDate string, scope Scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + amzDate + "\n" + scope.String() + "\n" + hex.EncodeToString(sum[:])
}

// DeriveSigningKey derives the SigV4 signing key of secret for scope.
func DeriveSigningKey(secret string, scope Scope) SigningKey {
	k := hmacSHA256([]byte("AWS4"+secret), scope.Date)
	k = hmacSHA256(k, scope.Region)
	k = hmacSHA256(k, scope.Service)
	return hmacSHA256(k, scopeTerminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// SigningKey is a derived SigV4 key. It prints as [redacted] so that logging a Result
// cannot leak it.
type SigningKey []byte

// String implements fmt.Stringer.
func (SigningKey) String() string { return "[redacted]" }

// MarshalText keeps the key out of JSON and text encodings.
func (SigningKey) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
