package remote_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/replication/remote"
	"github.com/rs/zerolog"
)

func TestCheck(t *testing.T) {
	gw := testutil.StartVersityGW(t, "replica")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := remote.DefaultConfig()
	cfg.Endpoint, cfg.Bucket, cfg.Prefix, cfg.PathStyle = gw.Endpoint, "replica", "pi1", true
	cfg.AccessKey, cfg.SecretKey = gw.AccessKey, gw.SecretKey

	for _, c := range []struct {
		name   string
		mutate func(*remote.Config)
		ok     bool
		want   string
	}{
		{"good", func(*remote.Config) {}, true, "OK: "},
		{"wrong key", func(c *remote.Config) { c.AccessKey = "nosuchkey" }, false, "FAIL: credentials: the remote refused access key"},
		{"wrong secret", func(c *remote.Config) { c.SecretKey = "not-the-secret-123" }, false, "FAIL: credentials: the remote refused access key"},
		{"no bucket", func(c *remote.Config) { c.Bucket = "missing" }, false, "FAIL: bucket access"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cfg
			c.mutate(&cc)
			cl, err := remote.New(ctx, cc, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			rep := cl.Check(ctx)
			if rep.OK != c.ok || !strings.HasPrefix(rep.Verdict(), c.want) {
				t.Errorf("verdict %q (ok %v), want prefix %q\n%s", rep.Verdict(), rep.OK, c.want, rep)
			}
			if strings.Contains(rep.String(), gw.SecretKey) {
				t.Errorf("the report shows the secret key")
			}
			// Credentials are "ok" only once the remote accepted them.
			if !c.ok && strings.Contains(c.want, "credentials") && strings.Contains(rep.String(), "ok    credentials") {
				t.Errorf("refused credentials reported ok first:\n%s", rep)
			}
			if c.ok && (len(rep.Steps) == 0 || rep.Steps[0].Name != "credentials" || !strings.Contains(rep.Steps[0].Detail, "accepted by the remote")) {
				t.Errorf("good credentials: first step %+v", rep.Steps)
			}
			t.Logf("\n%s", rep)
		})
	}
}
