// Package s3name holds S3's rules for bucket names and object keys, shared by every
// way objects enter IPAS (the S3 endpoint, drop folders, imports), so that all of them
// accept and refuse exactly the same names.
package s3name

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Limits from the S3 documentation.
const (
	MinBucketLen = 3
	MaxBucketLen = 63
	MaxKeyBytes  = 1024
)

// Sentinel errors; the error text says which rule was broken.
var (
	ErrInvalidBucketName = errors.New("invalid bucket name")
	ErrInvalidKey        = errors.New("invalid object key")
)

// CheckBucket returns nil if name follows S3's general-purpose bucket naming rules:
// 3 to 63 characters of lowercase letters, digits, '.' and '-', starting and ending
// with a letter or digit, no "..", not an IP address, no reserved prefix or suffix.
func CheckBucket(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidBucketName, name, why)
	}
	if len(name) < MinBucketLen || len(name) > MaxBucketLen {
		return bad(fmt.Sprintf("must be %d to %d characters long", MinBucketLen, MaxBucketLen))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("only lowercase letters, digits, '.' and '-' are allowed")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must start and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not contain \"..\"")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("must not look like an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("the prefix " + p + " is reserved")
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return bad("the suffix " + s + " is reserved")
		}
	}
	return nil
}

// CheckKey returns nil if key can be stored: 1 to 1024 bytes of valid UTF-8 without
// NUL. Keys are opaque strings to IPAS, never file paths, so "../x" is an ordinary key.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyBytes:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidKey, len(key), MaxKeyBytes)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidKey)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("%w: contains a NUL byte", ErrInvalidKey)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
