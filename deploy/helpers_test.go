//go:build ansible

package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the tests configure on the gateway.
const (
	testAccessKey = "IPASTESTACCESSKEY"
	testSecretKey = "ipas-test-secret-0123456789"
	testRegion    = "us-east-1"
)

// commandTimeout bounds every external command of the tests.
const commandTimeout = 10 * time.Minute

// repoRoot is the module's root: this package lives in deploy/.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// requireRoot stops the test unless it runs as root with the given programs on PATH.
func requireRoot(t *testing.T, programs ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("these tests need root (debootstrap, chroot, unshare); run them as root or drop -tags ansible")
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed; .ci/run installs it (apt-get install ansible ansible-core ansible-lint debootstrap qemu-user-static curl awscli)", p)
		}
	}
}

// result is what a finished command printed.
type result struct {
	out  string // stdout and stderr interleaved
	err  error
	took time.Duration
}

// run executes name args in dir with extra environment, bounded by commandTimeout.
func run(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	return result{out: buf.String(), err: err, took: time.Since(start)}
}

// mustRun is run that fails the test on a non-zero exit.
func mustRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	r := run(t, dir, env, name, args...)
	if r.err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), r.err, r.out)
	}
	return r.out
}

// buildRelease runs scripts/release for version into dir, for targets (empty: all).
func buildRelease(t *testing.T, version, dir string, targets ...string) string {
	t.Helper()
	var env []string
	if len(targets) > 0 {
		env = append(env, "IPAS_RELEASE_TARGETS="+strings.Join(targets, " "))
	}
	r := run(t, repoRoot(t), env, "scripts/release", version, dir)
	if r.err != nil {
		t.Fatalf("scripts/release %s: %v\n%s", version, r.err, r.out)
	}
	t.Logf("scripts/release %s (%s): %s", version, strings.Join(targets, " "), r.took.Round(time.Second))
	return dir
}

// hostTarget is the release target that runs on this machine.
func hostTarget() string { return "linux/" + runtime.GOARCH }

// hostArtifact is the release file name for this machine (see scripts/release).
func hostArtifact() string { return "gateway-linux-" + runtime.GOARCH }

// brokenRelease writes a release whose binary exits 1 at once, with a correct
// SHA256SUMS: it passes the checksum and must fail the health check.
func brokenRelease(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'this build is broken on purpose' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, hostArtifact()), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	sums := mustRun(t, dir, nil, "sha256sum", hostArtifact())
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// awsCLI is the aws CLI to drive the gateway with: Debian's v2 when installed.
func awsCLI() string {
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws"
	}
	return "aws"
}

// awsEnv signs with the test credential.
func awsEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + testAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + testSecretKey,
		"AWS_DEFAULT_REGION=" + testRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}

// waitFor polls check every 500 ms until it returns nil or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// gatewayBinary builds the gateway for this machine once per test binary.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	gatewayOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ipas-deploy-bin-")
		if err != nil {
			gatewayErr = err
			return
		}
		gatewayPath = filepath.Join(dir, "gateway")
		cmd := exec.Command("go", "build", "-o", gatewayPath, "./cmd/gateway")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			gatewayErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if gatewayErr != nil {
		t.Fatal(gatewayErr)
	}
	return gatewayPath
}

var (
	gatewayOnce sync.Once
	gatewayPath string
	gatewayErr  error
)
