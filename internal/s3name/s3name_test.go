package s3name

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckBucket(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"photos", true}, {"my.backup-2026", true}, {"abc", true}, {strings.Repeat("a", 63), true},
		{"ab", false}, {strings.Repeat("a", 64), false}, {"Photos", false}, {"under_score", false},
		{"-start", false}, {"end-", false}, {"a..b", false}, {"192.168.1.1", false},
		{"xn--abc", false}, {"bucket-s3alias", false}, {"../etc", false}, {"a/b", false}, {"", false},
	}
	for _, tt := range tests {
		err := CheckBucket(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("CheckBucket(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidBucketName) {
			t.Errorf("CheckBucket(%q): %v is not ErrInvalidBucketName", tt.name, err)
		}
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true}, {"../../etc/passwd", true}, {"./", true}, {"dir/", true}, {"ünïcode ✓", true},
		{strings.Repeat("k", 1024), true},
		{"", false}, {strings.Repeat("k", 1025), false}, {"nul\x00byte", false}, {"bad\xffutf8", false},
	}
	for _, tt := range tests {
		err := CheckKey(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("CheckKey(%q) = %v, want ok=%v", tt.key, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("CheckKey(%q): %v is not ErrInvalidKey", tt.key, err)
		}
	}
}

// FuzzCheck asserts that validation never panics and that whatever it accepts obeys
// the rules the rest of IPAS relies on.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"photos", "../../etc/passwd", "a\x00b", "192.168.0.1", "xn--x", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckBucket(s) == nil {
			if len(s) < 3 || len(s) > 63 || strings.ContainsAny(s, "/\\\x00 ") || strings.Contains(s, "..") {
				t.Fatalf("accepted bucket %q", s)
			}
		}
		if CheckKey(s) == nil {
			if s == "" || len(s) > MaxKeyBytes || strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("accepted key %q", s)
			}
		}
	})
}
