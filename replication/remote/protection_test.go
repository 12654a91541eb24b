package remote_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/replication/remote"
	"github.com/rs/zerolog"
)

// TestCheck_Protection runs `remote test`'s check against a real versitygw
// bucket without versioning, with versioning, and with Object Lock, and
// checks what it says of each and what it leaves behind.
func TestCheck_Protection(t *testing.T) {
	gw := testutil.StartVersityGWVersioning(t, "plain", "versioned")
	gw.EnableVersioning(t, "versioned")
	gw.CreateLockedBucket(t, "locked", types.ObjectLockRetentionModeCompliance, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	for _, c := range []struct {
		bucket    string
		versioned bool
		// lines are substrings the report must hold, in any order.
		lines []string
		// leftovers is how many versions of the test object stay.
		leftovers int
	}{
		{"plain", false, []string{"warn  remote versioning     off: the remote keeps one copy of each key",
			"ok    object lock          none", "ok    delete object"}, 0},
		{"versioned", true, []string{"ok    remote versioning     Enabled: the remote keeps every version",
			"ok    object lock          none", "ok    delete object"}, 0},
		{"locked", true, []string{"ok    remote versioning     Enabled",
			"ok    object lock          COMPLIANCE, default retention 1 day: the strongest setting",
			"warn  delete object        Object Lock keeps the test object"}, 1},
	} {
		t.Run(c.bucket, func(t *testing.T) {
			cfg := remote.DefaultConfig()
			cfg.Endpoint, cfg.Bucket, cfg.Prefix, cfg.PathStyle = gw.Endpoint, c.bucket, "pi1", true
			cfg.AccessKey, cfg.SecretKey = gw.AccessKey, gw.SecretKey
			cl, err := remote.New(ctx, cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			rep := cl.Check(ctx)
			t.Logf("\n%s", rep)
			if !rep.OK {
				t.Fatalf("verdict %q, want OK: neither versioning nor Object Lock is required", rep.Verdict())
			}
			words := strings.Join(strings.Fields(rep.String()), " ")
			for _, l := range c.lines {
				if !strings.Contains(words, strings.Join(strings.Fields(l), " ")) {
					t.Errorf("report lacks %q", l)
				}
			}
			// Replication asks Versioned; the check has already read it.
			if v, err := cl.Versioned(ctx); err != nil || v != c.versioned {
				t.Errorf("Versioned() = %v, %v; want %v", v, err, c.versioned)
			}
			// Nothing stays behind, not even a delete marker, except what
			// Object Lock forbids deleting.
			out, err := gw.S3().ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(c.bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(out.Versions) + len(out.DeleteMarkers); n != c.leftovers {
				t.Errorf("%d versions and delete markers left on the remote, want %d", n, c.leftovers)
			}
		})
	}
}
