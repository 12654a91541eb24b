package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildGateway compiles the real binary once per test run.
func buildGateway(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ipas-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "gateway")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// gatewayProcess is a running `gateway serve`.
type gatewayProcess struct {
	cmd      *exec.Cmd
	stderr   *lockedBuffer
	ready    chan struct{}
	endpoint string // the S3 endpoint from the "gateway ready" line
	console  string // the web console's URL from that line ("" when off)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) add(s string) { l.mu.Lock(); l.b.WriteString(s); l.mu.Unlock() }
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `gateway serve ARGS...` and waits until it logs that it is ready.
func startServe(t *testing.T, env []string, args ...string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(buildGateway(t), append([]string{"serve"}, args...)...)
	// Each daemon gets its own console port: tests run side by side.
	cmd.Env = append(append(os.Environ(), "IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0"), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &gatewayProcess{cmd: cmd, stderr: &lockedBuffer{}, ready: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(pipe)
		once := sync.Once{}
		for sc.Scan() {
			p.stderr.add(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "gateway ready") {
				once.Do(func() {
					var line struct {
						Endpoint string `json:"s3_endpoint"`
						Console  string `json:"console"`
					}
					json.Unmarshal(sc.Bytes(), &line)
					p.endpoint, p.console = line.Endpoint, line.Console
					close(p.ready)
				})
			}
		}
	}()
	select {
	case <-p.ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("gateway did not become ready in 30 s; stderr:\n%s", p.stderr)
	}
	return p
}

func TestServe_FirstStartCredentialAndCleanShutdown(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "ipas-data")
	p := startServe(t, nil, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")

	credPath := filepath.Join(dataDir, CredentialsFile)
	st, err := os.Stat(credPath)
	if err != nil {
		t.Fatalf("first start did not write %s: %v", credPath, err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", credPath, st.Mode().Perm())
	}
	cred, _, err := loadOrCreateCredential(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	out := p.stderr.String()
	if !strings.Contains(out, cred.AccessKey) {
		t.Fatalf("the generated access key was not shown:\n%s", out)
	}
	if strings.Contains(out, cred.SecretKey) {
		t.Fatalf("the secret was written to a non-terminal stderr (a service log):\n%s", out)
	}

	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: exit %v, want 0; stderr:\n%s", err, p.stderr)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("SIGTERM took %s, the limit is 10 s", took)
	}
	if !strings.Contains(p.stderr.String(), "stopped cleanly") {
		t.Fatalf("no clean-stop line:\n%s", p.stderr)
	}

	// A second start reuses the credential and shows nothing.
	p2 := startServe(t, nil, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	if strings.Contains(p2.stderr.String(), "generated an S3 credential") {
		t.Fatal("the credential was generated again on the second start")
	}
	p2.cmd.Process.Signal(syscall.SIGINT)
	if err := p2.cmd.Wait(); err != nil {
		t.Fatalf("SIGINT: exit %v, want 0; stderr:\n%s", err, p2.stderr)
	}
}

// TestBadInput_OneClearErrorNonZeroExit runs the binary on broken setups: each gives
// one error naming the file or field and the fix, a non-zero exit, and changes nothing.
func TestBadInput_OneClearErrorNonZeroExit(t *testing.T) {
	bin := buildGateway(t)
	dir := t.TempDir()
	unknownKey := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("data_dir: "+filepath.Join(dir, "d1")+"\ns3:\n  adress: ':9000'\n"), 0o600)
	badLevel := filepath.Join(dir, "level.yaml")
	os.WriteFile(badLevel, []byte("log: {level: loud}\n"), 0o600)
	notADir := filepath.Join(dir, "plainfile")
	os.WriteFile(notADir, []byte("x"), 0o600)

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown key", []string{"serve", "--config", unknownKey}, []string{unknownKey, "adress"}},
		{"invalid value", []string{"serve", "--config", badLevel}, []string{badLevel, "log.level", "trace, debug"}},
		{"missing config file", []string{"serve", "--config", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml", "--config"}},
		{"data dir not writable", []string{"serve", "--data-dir", filepath.Join(notADir, "data")}, []string{"plainfile/data", "not writable", "--data-dir"}},
		{"bad flag", []string{"serve", "--no-such-flag"}, []string{"no-such-flag"}},
		{"bad bucket", []string{"import", "--data-dir", filepath.Join(dir, "d2"), "Bad_Bucket", dir}, []string{"Bad_Bucket", "lowercase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(bin, tt.args...).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("exit %v, want non-zero; output:\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "d1")); !os.IsNotExist(err) {
		t.Fatal("a refused configuration still created the data directory")
	}
	if b, _ := os.ReadFile(notADir); string(b) != "x" {
		t.Fatal("the file in the way of the data directory was changed")
	}
}

// TestVerify_TruncatedBlob archives files, truncates one blob on disk, and expects
// `gateway verify` to name that file and the fix and exit 1, changing nothing.
func TestVerify_TruncatedBlob(t *testing.T) {
	bin := buildGateway(t)
	dir := t.TempDir()
	dataDir, src := filepath.Join(dir, "data"), filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "good.txt"), []byte(strings.Repeat("good ", 1000)), 0o644)
	os.WriteFile(filepath.Join(src, "victim.bin"), []byte(strings.Repeat("victim ", 1000)), 0o644)
	if out, err := exec.Command(bin, "import", "--data-dir", dataDir, "docs", src).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "verify", "--data-dir", dataDir).CombinedOutput(); err != nil {
		t.Fatalf("verify of a healthy archive: %v\n%s", err, out)
	}

	sum := sha256.Sum256([]byte(strings.Repeat("victim ", 1000)))
	h := hex.EncodeToString(sum[:])
	blob := filepath.Join(dataDir, "store", "blobs", h[:2], h[2:4], h)
	if err := os.Truncate(blob, 100); err != nil {
		t.Fatalf("truncate the blob (layout changed?): %v", err)
	}
	out, err := exec.Command(bin, "verify", "--data-dir", dataDir).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("verify of a truncated blob: exit %v, want 1\n%s", err, out)
	}
	for _, want := range []string{"docs/victim.bin", blob, "fix:", "1 corrupt"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("verify output does not mention %q:\n%s", want, out)
		}
	}
	if st, _ := os.Stat(blob); st.Size() != 100 {
		t.Fatal("verify changed the damaged blob")
	}
}

// TestServe_DropFolderToS3 drops a file into the embedded default drop folder
// (DATA_DIR/drop/BUCKET/...) of the real daemon and reads it back through the S3 API.
func TestServe_DropFolderToS3(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"IPAS_ACCESS_KEY=DROPTESTKEY", "IPAS_SECRET_KEY=drop-test-secret"}
	p := startServe(t, env, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	c := s3Client(p.endpoint, "DROPTESTKEY", "drop-test-secret")

	body := bytes.Repeat([]byte("holiday photo "), 50000)
	dir := filepath.Join(dataDir, "drop", "photos", "2026")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "beach.jpg"), body, 0o644)
	os.WriteFile(filepath.Join(dir, "beach.jpg.part"), []byte("half a download"), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("2026/beach.jpg")})
		if err == nil {
			got, err = io.ReadAll(out.Body)
			out.Body.Close()
			break
		}
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("the dropped file did not come back through S3 byte for byte (%d of %d bytes)", len(got), len(body))
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("2026/beach.jpg.part")}); err == nil {
		t.Fatal("a .part file (excluded by default) was archived")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
}

// s3Client is an aws-sdk-go-v2 client for a gateway under test; optFns
// change its options further, as in s3.New.
func s3Client(endpoint, ak, sk string, optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		}),
		HTTPClient:       &http.Client{Timeout: 30 * time.Second},
		RetryMaxAttempts: 1,
	}, optFns...)
}

// TestServe_DropFlag adds a drop folder with --drop DIR=BUCKET/PREFIX on the command line
// and reads a dropped file back through S3 under that prefix.
func TestServe_DropFlag(t *testing.T) {
	dir := t.TempDir()
	scans := filepath.Join(dir, "scans")
	os.MkdirAll(scans, 0o755)
	env := []string{"IPAS_ACCESS_KEY=DROPFLAGKEY", "IPAS_SECRET_KEY=drop-flag-secret"}
	p := startServe(t, env, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0",
		"--drop", scans+"=documents/scans")
	c := s3Client(p.endpoint, "DROPFLAGKEY", "drop-flag-secret")
	body := bytes.Repeat([]byte("invoice "), 3000)
	os.WriteFile(filepath.Join(scans, "invoice.pdf"), body, 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && got == nil; time.Sleep(200 * time.Millisecond) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("documents"), Key: aws.String("scans/invoice.pdf")})
		if err == nil {
			got, _ = io.ReadAll(out.Body)
			out.Body.Close()
		}
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("--drop folder: documents/scans/invoice.pdf came back with %d of %d bytes", len(got), len(body))
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
}
