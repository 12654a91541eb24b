package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/testutil"
)

// TestComposite_AWSCLIMultipart: a 40 MiB file uploaded by the real aws CLI
// (8 MiB parts) through the daemon and replicated to versitygw carries, on
// the remote, its composite hash (the SHA-256 of its parts' SHA-256, "-5",
// computed here independently), its part sizes and layout format 2. The data
// directory is wiped: `gateway restore` with the remote index and with
// --no-index gives the same bytes back, which `gateway verify` proves against
// the composite; after --metadata-only the object is
// read through from the remote, byte-identical. The remote copy damaged
// behind IPAS's back: the read-through and a restore fail clearly.
func TestComposite_AWSCLIMultipart(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		testutil.MissingTool(t, "aws", "pip install awscli")
	}
	vgw := testutil.StartVersityGW(t, restoreBucket)
	s := newRestoreSetup(t, vgw.Endpoint, vgw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")

	const partSize, size = 8 << 20, 40 << 20
	body := testutil.Content(16, size)
	file := filepath.Join(work, "film.bin")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	var digests []byte
	for off := 0; off < size; off += partSize {
		d := sha256.Sum256(body[off : off+partSize])
		digests = append(digests, d[:]...)
	}
	wantHash := fmt.Sprintf("%x-%d", sha256.Sum256(digests), size/partSize)

	p := s.serve(t, dataDir)
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("media")}); err != nil {
		t.Fatal(err)
	}
	runAWS(t, ctx, awsBin, p.endpoint, "s3", "cp", file, "s3://media/film.bin")
	s.waitReplicated(t, p)
	checkBody(t, ctx, c, "uploaded", body)

	remote := s3Client(vgw.Endpoint, vgw.AccessKey, vgw.SecretKey)
	h, err := remote.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(restoreBucket), Key: aws.String(restorePrefix + "/media/film.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if m := h.Metadata; m["ipas-sha256"] != wantHash || m["ipas-parts"] != "8388608*5" || m["ipas-format"] != "2" {
		t.Fatalf("remote metadata %v; want ipas-sha256 %s, ipas-parts 8388608*5, ipas-format 2", m, wantHash)
	}
	s.stop(t, p)
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{nil, {"--no-index"}} {
		dir := filepath.Join(work, "restored"+strings.Join(args, ""))
		run := s.restore(t, dir, args...)
		if run.code != 0 || !strings.Contains(run.stderr, "1 restored") ||
			(args == nil) != strings.Contains(run.stderr, "object list: remote index") {
			t.Fatalf("restore %v: %s", args, run)
		}
		p := s.serve(t, dir)
		checkBody(t, ctx, s3Client(p.endpoint, restoreAK, restoreSK), fmt.Sprintf("restored %v", args), body)
		s.stop(t, p)
		verifyRestored(t, ctx, dir, wantHash)
	}

	readThrough := filepath.Join(work, "remote-only")
	if run := s.restore(t, readThrough, "--metadata-only"); run.code != 0 {
		t.Fatalf("restore --metadata-only: %s", run)
	}
	base, err := os.ReadFile(s.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s.setCacheOnRead(t, base, "never") // each GET reads the remote copy
	p = s.serve(t, readThrough)
	defer s.stop(t, p)
	c = s3Client(p.endpoint, restoreAK, restoreSK)
	checkBody(t, ctx, c, "read through", body)

	flipByte(t, filepath.Join(s.remoteDir, "media", "film.bin"), 3*partSize+12345)
	got, err := getAll(ctx, c)
	if err == nil || bytes.Equal(got, body) {
		t.Errorf("GET of the damaged remote copy: %v after %d bytes; want a broken transfer", err, len(got))
	}
	if !strings.Contains(p.stderr.String(), "remote copy was changed or damaged") {
		t.Errorf("no ERROR log of the damaged remote copy:\n%s", p.stderr)
	}
	run := s.restore(t, filepath.Join(work, "damaged"), "--no-index")
	if run.code == 0 || !strings.Contains(run.stdout, "its bytes hash to SHA-256") || !strings.Contains(run.stdout, wantHash) {
		t.Errorf("restore of the damaged remote copy: %s", run)
	}
}

func getAll(ctx context.Context, c *s3.Client) ([]byte, error) {
	got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("media"), Key: aws.String("film.bin")})
	return got, err
}

func checkBody(t *testing.T, ctx context.Context, c *s3.Client, what string, want []byte) {
	t.Helper()
	got, err := getAll(ctx, c)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s: GET media/film.bin: %v, %d bytes, equal %v", what, err, len(got), bytes.Equal(got, want))
	}
}

// verifyRestored runs `gateway verify` on dataDir: the restored object keeps
// its composite hash, and its part blobs make it.
func verifyRestored(t *testing.T, ctx context.Context, dataDir, wantHash string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	a, err := openArchive(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(ctx)
	if o, err := a.node.Object("media", "film.bin"); err != nil || o.SHA256 != wantHash || len(o.Parts) != 5 {
		t.Fatalf("restored index entry: %v, hash %s with %d parts; want %s", err, o.SHA256, len(o.Parts), wantHash)
	}
	if err := verifyArchive(ctx, a, io.Discard); err != nil {
		t.Fatalf("gateway verify of the restored archive: %v", err)
	}
}
