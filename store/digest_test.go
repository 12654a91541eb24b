package store

import (
	"strings"
	"testing"
)

func TestParseDigest(t *testing.T) {
	d := digestOf([]byte("hello"))
	const hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if d.String() != hello {
		t.Fatalf("String() = %s, want %s", d, hello)
	}
	for _, tc := range []struct {
		in   string
		want Digest
		ok   bool
	}{
		{hello, d, true},
		{strings.ToUpper(hello), d, true},
		{hello[:63], Digest{}, false},
		{hello + "0", Digest{}, false},
		{"zz" + hello[2:], Digest{}, false},
		{"", Digest{}, false},
	} {
		got, err := ParseDigest(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDigest(%q) = %s, %v; want %s, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
