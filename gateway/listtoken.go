package gateway

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
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

// errBadContinuation is S3's answer to a continuation token it did not issue.
var errBadContinuation = s3err.ErrInvalidArgument.WithMessage("The continuation token provided is incorrect.")

// decodeContinuation returns the key a token resumes after.
func decodeContinuation(tok string) (string, error) {
	enc, ok := strings.CutPrefix(tok, tokenEncodedPrefix)
	if !ok {
		return tok, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", errBadContinuation
	}
	return string(raw), nil
}

// checkContinuation refuses a token that this server did not issue for bucket, as
// S3 refuses a token that is not its own, rather than listing from wherever it
// points. A token is one of the last ones issued (s.tokens), or names a key or
// common prefix that is in the bucket: that covers tokens issued before a
// restart. A token whose key was deleted since, issued before a restart or too
// many tokens ago, is refused too: the client starts its listing again.
func (s *Server) checkContinuation(bucket, tok, after string) error {
	if s.tokens.has(bucket, tok) {
		return nil
	}
	objs, _, err := s.idx.ListObjects(bucket, after, "", 1)
	if errors.Is(err, queue.ErrNoSuchKey) || err == nil && len(objs) == 0 {
		return errBadContinuation
	}
	return err
}

// maxIssuedTokens bounds the continuation tokens a server remembers (at most
// about 1 KiB each: a key and a bucket name).
const maxIssuedTokens = 1024

// issuedTokens is the last maxIssuedTokens continuation tokens handed out, per
// bucket. The zero value is ready to use.
type issuedTokens struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string
	next int
}

func tokenID(bucket, tok string) string { return bucket + "\x00" + tok }

func (t *issuedTokens) add(bucket, tok string) {
	id := tokenID(bucket, tok)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.set[id]; ok {
		return
	}
	if t.set == nil {
		t.set = make(map[string]struct{})
	}
	if len(t.ring) < maxIssuedTokens {
		t.ring = append(t.ring, id)
	} else {
		delete(t.set, t.ring[t.next])
		t.ring[t.next] = id
		t.next = (t.next + 1) % maxIssuedTokens
	}
	t.set[id] = struct{}{}
}

func (t *issuedTokens) has(bucket, tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.set[tokenID(bucket, tok)]
	return ok
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
