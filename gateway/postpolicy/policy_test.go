package postpolicy

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
)

func TestParseRefusesAsS3(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, field, code, msg string
	}{
		{"empty", "", "InvalidPolicyDocument", "Invalid Policy: Expecting '{' but found End-of-Input"},
		{"not base64", "%%%", "InvalidPolicyDocument", "Invalid Policy: invalid Base64 encoding."},
		{"not JSON", b64("nope"), "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."},
		{"extra field", b64(`{"expiration":"2027-01-01T00:00:00Z","conditions":[],"x":1}`), "InvalidPolicyDocument", `Invalid Policy: Unexpected: "x"`},
		{"no expiration", b64(`{"conditions":[]}`), "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration."},
		{"bad expiration", b64(`{"expiration":"soon","conditions":[]}`), "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: 'soon'"},
		{"no conditions", b64(`{"expiration":"2027-01-01T00:00:00Z"}`), "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions."},
		{"unknown op", b64(`{"expiration":"2027-01-01T00:00:00Z","conditions":[["like","$key","a"]]}`), "InvalidPolicyDocument",
			"Invalid Policy: Invalid Condition: unknown operation 'like'."},
		{"two properties", b64(`{"expiration":"2027-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}`), "InvalidPolicyDocument",
			"Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."},
		{"expired", b64(`{"expiration":"2026-12-04T11:59:59Z","conditions":[]}`), "AccessDenied", "Invalid according to Policy: Policy expired."},
	} {
		_, err := Parse(tc.field, now)
		var apiErr *s3err.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.Message != tc.msg {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
}

func TestCheckConditions(t *testing.T) {
	doc := `{"expiration":"2027-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","u/"],` +
		`["starts-with","$Content-Type","image/"],["content-length-range",1,10]]}`
	p, err := Parse(base64.StdEncoding.EncodeToString([]byte(doc)), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	ok := []Field{{"bucket", "b"}, {"key", "u/a.jpg"}, {"content-type", "image/png, image/jpeg"}, {"x-ignore-me", "1"}, {"policy", "x"}}
	if err := p.Check(ok); err != nil {
		t.Fatalf("allowed form: %v", err)
	}
	for _, bad := range [][]Field{
		{{"bucket", "b"}, {"key", "v/a.jpg"}, {"content-type", "image/png"}},
		{{"bucket", "b"}, {"key", "u/a"}, {"content-type", "image/png, text/html"}},
		{{"bucket", "b"}, {"key", "u/a"}, {"content-type", "image/png"}, {"x-amz-meta-x", "1"}},
	} {
		if err := p.Check(bad); err == nil {
			t.Errorf("form %v passed", bad)
		}
	}
	if p.CheckLength(0) == nil || p.CheckLength(11) == nil || p.CheckLength(10) != nil {
		t.Error("content-length-range 1-10 not enforced")
	}
}
