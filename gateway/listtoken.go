package gateway

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/ipas/ipas/gateway/s3err"
)

// tokenEncodedPrefix marks a continuation token that carries its key in base64.
// A token is otherwise the last key (or common prefix) of its page, as S3 clients
// and test suites that look inside tokens expect; a listing started after a common
// prefix skips the whole prefix, so the prefix itself is a valid cursor.
const tokenEncodedPrefix = "~b64:"

// encodeContinuation returns the ListObjectsV2 token that resumes after key. Keys
// that XML cannot carry intact (control characters), or that could be mistaken
// for an encoded token, travel in base64.
func encodeContinuation(key string) string {
	if xmlSafe(key) && !strings.HasPrefix(key, tokenEncodedPrefix) {
		return key
	}
	return tokenEncodedPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// decodeContinuation returns the key a token resumes after.
func decodeContinuation(tok string) (string, error) {
	enc, ok := strings.CutPrefix(tok, tokenEncodedPrefix)
	if !ok {
		return tok, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", s3err.ErrInvalidArgument.WithMessage("The continuation token provided is incorrect.")
	}
	return string(raw), nil
}

// xmlSafe reports whether v survives an XML round trip unchanged: valid UTF-8
// without the control characters XML 1.0 cannot represent.
func xmlSafe(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, c := range v {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF {
			return false
		}
	}
	return true
}
