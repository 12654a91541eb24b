//go:build ansible

package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// s3Client drives the gateway in a booted root with the aws CLI of this machine.
type s3Client struct {
	sys      *bootedRoot
	endpoint string
}

func (c s3Client) run(t *testing.T, args ...string) result {
	return c.sys.inNetns(t, awsEnv(), append([]string{awsCLI(), "--endpoint-url", c.endpoint}, args...)...)
}

func (c s3Client) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := c.run(t, args...)
	if r.err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), r.err, r.out)
	}
	return r.out
}

// mustServe waits until a signed ListBuckets succeeds.
func (c s3Client) mustServe(t *testing.T) {
	t.Helper()
	waitFor(t, 30*time.Second, "signed list-buckets", func() error {
		if r := c.run(t, "s3api", "list-buckets"); r.err != nil {
			return errorWithOutput(r)
		}
		return nil
	})
}

// put uploads body as bucket/key ("bucket/key" in path).
func (c s3Client) put(t *testing.T, work, path, body string) {
	t.Helper()
	src := filepath.Join(work, "upload")
	if err := os.WriteFile(src, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustRun(t, "s3", "cp", "--no-progress", src, "s3://"+path)
}

// get downloads bucket/key and compares it with want.
func (c s3Client) get(t *testing.T, work, path, want string) {
	t.Helper()
	dst := filepath.Join(work, "download")
	os.Remove(dst)
	c.mustRun(t, "s3", "cp", "--no-progress", "s3://"+path, dst)
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != want {
		t.Fatalf("s3://%s reads back %q (%v), want %q", path, got, err, want)
	}
}

type outputError struct{ r result }

func (e outputError) Error() string { return e.r.err.Error() + ": " + e.r.out }

func errorWithOutput(r result) error { return outputError{r} }
