package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/internal/testutil"
)

// restoreSetup is a real daemon replicating to a real versitygw under a prefix.
type restoreSetup struct {
	vgw       *testutil.VersityGW
	cfgPath   string
	env       []string // S3 credential and the remote
	remoteDir string   // versitygw's directory of the replicated objects
}

const (
	restoreAK, restoreSK = "RESTOREKEY", "restore-test-secret"
	restoreBucket        = "offsite"
	restorePrefix        = "pi1"
)

func newRestoreSetup(t *testing.T, endpoint string, vgw *testutil.VersityGW) *restoreSetup {
	t.Helper()
	s := &restoreSetup{vgw: vgw, remoteDir: filepath.Join(vgw.Dir, restoreBucket, restorePrefix)}
	s.cfgPath = filepath.Join(t.TempDir(), "ipas.yaml")
	cfg := "remote: {path_style: true, prefix: " + restorePrefix + ", index_interval: 0s}\n" +
		"replication: {multipart_threshold: 6000000, part_size: 5242880}\n"
	if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.env = []string{"IPAS_ACCESS_KEY=" + restoreAK, "IPAS_SECRET_KEY=" + restoreSK,
		"IPAS_REMOTE_ENDPOINT=" + endpoint, "IPAS_REMOTE_BUCKET=" + restoreBucket, "IPAS_REMOTE_REGION=us-east-1",
		"IPAS_REMOTE_ACCESS_KEY=" + vgw.AccessKey, "IPAS_REMOTE_SECRET_KEY=" + vgw.SecretKey}
	return s
}

func (s *restoreSetup) serve(t *testing.T, dataDir string) *gatewayProcess {
	t.Helper()
	return startServe(t, s.env, "--config", s.cfgPath, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
}

// servePopulated starts the daemon on dataDir, puts every kind of object
// (populate) and waits until all of it is on the remote.
func (s *restoreSetup) servePopulated(t *testing.T, ctx context.Context, dataDir string) (*gatewayProcess, *s3.Client) {
	t.Helper()
	p := s.serve(t, dataDir)
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	populate(t, ctx, c, dataDir)
	s.waitReplicated(t, p)
	return p, c
}

func (s *restoreSetup) stop(t *testing.T, p *gatewayProcess) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
}

// waitReplicated waits until the journal holds no job and nothing is pending.
func (s *restoreSetup) waitReplicated(t *testing.T, p *gatewayProcess) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		st := cliStatus(t, s.env, p.endpoint)
		if st.Journal.Jobs == 0 && st.Offsite.PendingObjects == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replication did not finish in 2 minutes: %+v\n%s", st.Totals, p.stderr)
		}
	}
}

// restoreRun is one run of `gateway restore`.
type restoreRun struct {
	stdout, stderr string
	code           int
	maxRSS         int64 // bytes
	took           time.Duration
}

func (s *restoreSetup) restore(t *testing.T, dataDir string, args ...string) restoreRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildGateway(t), append([]string{"restore", "--config", s.cfgPath, "--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), s.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	run := restoreRun{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.maxRSS = ru.Maxrss << 10 // KiB on Linux
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		run.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("gateway restore: %v", err)
	}
	return run
}

func (r restoreRun) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// objectView is everything a client sees of an object: the bytes (by hash),
// the headers of GET, the checksums, and each part's answer.
type objectView struct {
	SHA256, ETag, ContentType, CacheControl, Disposition, Encoding, Language, Expires string
	Metadata                                                                          map[string]string
	Checksums                                                                         map[string]string
	PartsCount                                                                        int32
	Parts                                                                             []string // per part: length, ETag, range
}

func viewObject(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) objectView {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	h := sha256.New()
	_, err = io.Copy(h, out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	v := objectView{
		SHA256: hex.EncodeToString(h.Sum(nil)), ETag: aws.ToString(out.ETag), ContentType: aws.ToString(out.ContentType),
		CacheControl: aws.ToString(out.CacheControl), Disposition: aws.ToString(out.ContentDisposition),
		Encoding: aws.ToString(out.ContentEncoding), Language: aws.ToString(out.ContentLanguage), Expires: aws.ToString(out.ExpiresString),
		Metadata: out.Metadata, Checksums: map[string]string{},
	}
	for name, p := range map[string]*string{"CRC32": out.ChecksumCRC32, "CRC32C": out.ChecksumCRC32C, "CRC64NVME": out.ChecksumCRC64NVME,
		"SHA1": out.ChecksumSHA1, "SHA256": out.ChecksumSHA256, "TYPE": (*string)(&out.ChecksumType)} {
		if aws.ToString(p) != "" {
			v.Checksums[name] = aws.ToString(p)
		}
	}
	for n := int32(1); ; n++ {
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), PartNumber: aws.Int32(n)})
		if err != nil {
			if n == 1 {
				t.Fatalf("head %s/%s part 1: %v", bucket, key, err)
			}
			break
		}
		v.PartsCount = aws.ToInt32(head.PartsCount)
		v.Parts = append(v.Parts, fmt.Sprintf("%d %s %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), aws.ToString(head.ContentRange)))
		if n >= max(v.PartsCount, 1) {
			break
		}
	}
	return v
}

// listAll lists every key of bucket through the daemon.
func listAll(t *testing.T, ctx context.Context, c *s3.Client, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// headRequests reads the HEAD count from restore's summary line.
func headRequests(stderr string) int {
	for _, line := range strings.Split(stderr, "\n") {
		if i := strings.Index(line, " HEAD requests"); i > 0 {
			var n int
			fields := strings.Fields(line[:i])
			fmt.Sscan(fields[len(fields)-1], &n)
			return n
		}
	}
	return 0
}
