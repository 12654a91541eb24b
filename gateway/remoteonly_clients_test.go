//go:build clients

package gateway

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipas/ipas/internal/testutil"
)

// TestClientAWSCLI_RemoteOnly: the aws CLI, shown an object whose bytes are
// on the remote only (storage class GLACIER), skips it with a warning that
// says why, and downloads the local objects next to it.
func TestClientAWSCLI_RemoteOnly(t *testing.T) {
	for name, bin := range map[string]string{"v1": "aws", "v2": "/usr/bin/aws"} {
		t.Run(name, func(t *testing.T) {
			if _, err := exec.LookPath(bin); err != nil {
				testutil.MissingTool(t, bin, "apt-get install -y awscli")
			}
			g := newGateway(t)
			c := g.client()
			mustBucket(t, c, "pics")
			put(t, c, "pics", "local.txt", []byte("local bytes"))
			put(t, c, "pics", "away.jpg", content(1, 5000))
			makeRemoteOnly(t, g, "pics", "away.jpg")
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "s3", "sync", "s3://pics/", dir, "--endpoint-url", g.URL)
			cmd.Env = append(os.Environ(), awsEnv(g)...)
			out, err := cmd.CombinedOutput()
			// The CLI exits 2 when it skipped a file.
			if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("aws s3 sync: %v, want exit status 2 (a file skipped)", err)
			}
			if !strings.Contains(string(out), "away.jpg") || !strings.Contains(string(out), "GLACIER") {
				t.Errorf("aws s3 sync does not warn about the remote-only object: %v\n%s", err, out)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "local.txt")); err != nil || !bytes.Equal(b, []byte("local bytes")) {
				t.Errorf("the local object was not synced: %q %v\n%s", b, err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "away.jpg")); err == nil {
				t.Errorf("a file was written for the remote-only object")
			}
			t.Logf("aws s3 sync: %v\n%s", err, out)
		})
	}
}
