package replication_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestReplicateSmallAndLarge: one small object (PutObject) and one large
// (multipart) arrive on the remote byte-identical, with the metadata that
// rebuilds the archive, and leave the journal.
func TestReplicateSmallAndLarge(t *testing.T) {
	e := newEnv(t)
	small := []byte("hello, remote")
	large := randomBytes(17<<20+123, 1)
	e.put("docs", "a/small.txt", small)
	e.put("videos", "big.bin", large)
	e.start(testConfig(), e.newRemote(e.gw.Endpoint), nil)
	waitFor(t, "journal drained", func() bool { return e.journal.pending() == 0 })

	for _, c := range []struct {
		bucket, key string
		data        []byte
	}{{"docs", "a/small.txt", small}, {"videos", "big.bin", large}} {
		got, out := e.remoteSHA256(c.bucket, c.key)
		if want := sha256Hex(c.data); got != want {
			t.Errorf("%s/%s: remote sha256 %s, want %s", c.bucket, c.key, got, want)
		}
		if m := out.Metadata; m["ipas-sha256"] != sha256Hex(c.data) || m["ipas-mtime"] != "2026-03-01T12:00:00Z" || m["owner"] != "alice" {
			t.Errorf("%s/%s: remote metadata %v", c.bucket, c.key, m)
		}
		if ct := aws.ToString(out.ContentType); ct != "application/x-test" {
			t.Errorf("%s/%s: content type %q", c.bucket, c.key, ct)
		}
	}
	ups, err := e.direct.ListMultipartUploads(ctxT(t), &s3.ListMultipartUploadsInput{Bucket: aws.String(remoteBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left on the remote", len(ups.Uploads))
	}
}
