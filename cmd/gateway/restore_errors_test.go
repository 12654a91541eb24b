package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipas/ipas/internal/testutil"
)

// TestRestore_BadRemote: an unreachable remote, a wrong secret, a missing
// bucket and no remote at all each stop restore with one clear error that
// names the fix, and a non-zero exit.
func TestRestore_BadRemote(t *testing.T) {
	vgw := testutil.StartVersityGW(t, restoreBucket)
	s := newRestoreSetup(t, vgw.Endpoint, vgw)
	dead := testutil.FreeAddr(t)
	with := func(env ...string) *restoreSetup {
		c := *s
		c.env = append(append([]string(nil), s.env...), env...)
		return &c
	}
	tests := []struct {
		name  string
		setup *restoreSetup
		args  []string
		want  []string
	}{
		{"unreachable", with("IPAS_REMOTE_ENDPOINT=http://" + dead), nil, []string{"restore stopped", dead, "gateway remote test"}},
		{"wrong secret", with("IPAS_REMOTE_SECRET_KEY=wrong-secret-0123456789"), nil, []string{"refuses", "credentials", "gateway remote test"}},
		{"missing bucket", with("IPAS_REMOTE_BUCKET=no-such-bucket"), nil, []string{"refuses", "no-such-bucket", "remote.bucket"}},
		{"no remote", with("IPAS_REMOTE_ENDPOINT=", "IPAS_REMOTE_BUCKET="), nil, []string{"no remote is configured", "remote.bucket"}},
		{"prefix without bucket", s, []string{"--prefix", "x/"}, []string{"--prefix", "--bucket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := tt.setup.restore(t, filepath.Join(t.TempDir(), "data"), tt.args...)
			if run.code == 0 {
				t.Fatalf("exit 0, want non-zero: %s", run)
			}
			for _, w := range tt.want {
				if !strings.Contains(run.stderr, w) {
					t.Errorf("the error does not mention %q: %s", w, run)
				}
			}
		})
	}
}
