package remote

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestPathStyleHint: a virtual-host name of a custom endpoint that does not
// resolve suggests path_style; AWS, path style and other errors do not.
func TestPathStyleHint(t *testing.T) {
	dnsErr := fmt.Errorf("remote: access bucket backup: %w", &net.DNSError{Name: "backup.nas.lan", Err: "no such host", IsNotFound: true})
	for _, tc := range []struct {
		name string
		cfg  Config
		err  error
		hint bool
	}{
		{"custom endpoint, virtual host", Config{Endpoint: "http://nas.lan:9000", Bucket: "backup"}, dnsErr, true},
		{"path style already", Config{Endpoint: "http://nas.lan:9000", Bucket: "backup", PathStyle: true}, dnsErr, false},
		{"AWS", Config{Bucket: "backup"}, dnsErr, false},
		{"the host itself fails", Config{Endpoint: "http://nas.lan:9000", Bucket: "backup"}, &net.DNSError{Name: "nas.lan", Err: "no such host"}, false},
		{"not DNS", Config{Endpoint: "http://nas.lan:9000", Bucket: "backup"}, fmt.Errorf("connection refused"), false},
	} {
		hint := (&Client{cfg: tc.cfg}).pathStyleHint(tc.err)
		if (hint != "") != tc.hint || (tc.hint && (!strings.Contains(hint, "path_style: true") || !strings.Contains(hint, EnvPathStyle))) {
			t.Errorf("%s: hint %q", tc.name, hint)
		}
	}
}
