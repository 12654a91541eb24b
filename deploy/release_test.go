//go:build ansible

package deploy_test

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRelease_StaticStampedWithChecksums builds every target with scripts/release and
// checks what a user downloading it relies on: SHA256SUMS verifies, each binary is
// static, for its architecture, and reports the version.
func TestRelease_StaticStampedWithChecksums(t *testing.T) {
	requireRoot(t, "sha256sum", "qemu-aarch64-static", "curl", awsCLI())
	dir := buildRelease(t, "v9.8.7-smoke", filepath.Join(t.TempDir(), "dist"))

	if out := mustRun(t, dir, nil, "sha256sum", "--check", "--strict", "SHA256SUMS"); strings.Count(out, ": OK") != 3 {
		t.Fatalf("SHA256SUMS does not cover three binaries:\n%s", out)
	}
	for name, machine := range map[string]elf.Machine{
		"gateway-linux-arm64": elf.EM_AARCH64,
		"gateway-linux-armv7": elf.EM_ARM,
		"gateway-linux-amd64": elf.EM_X86_64,
	} {
		f, err := elf.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Machine != machine {
			t.Errorf("%s is built for %s, want %s", name, f.Machine, machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is dynamically linked", name)
			}
		}
		f.Close()
	}
	if out := mustRun(t, dir, nil, "qemu-aarch64-static", "./gateway-linux-arm64", "version"); strings.TrimSpace(out) != "gateway v9.8.7-smoke" {
		t.Fatalf("arm64 version: %q", out)
	}
}

// TestRelease_Arm64UnderQemu starts the arm64 release binary under qemu-user and
// round-trips an object through it with the aws CLI.
func TestRelease_Arm64UnderQemu(t *testing.T) {
	requireRoot(t, "qemu-aarch64-static", awsCLI())
	work := t.TempDir()
	dir := buildRelease(t, "v9.8.7-qemu", filepath.Join(work, "dist"), "linux/arm64")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))

	cmd := exec.Command("qemu-aarch64-static", filepath.Join(dir, "gateway-linux-arm64"), "serve",
		"--data-dir", filepath.Join(work, "data"), "--s3-addr", addr, "--log-level", "info")
	cmd.Env = append(os.Environ(), "IPAS_ACCESS_KEY="+testAccessKey, "IPAS_SECRET_KEY="+testSecretKey, "IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	ready := make(chan struct{})
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !once && strings.Contains(sc.Text(), "gateway ready") {
				once = true
				close(ready)
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case <-ready:
		t.Logf("arm64 gateway ready under qemu in %s", time.Since(start).Round(time.Millisecond))
	case err := <-exited:
		t.Fatalf("the arm64 gateway exited under qemu: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the arm64 gateway did not become ready in 60 s under qemu")
	}

	aws := func(args ...string) string {
		t.Helper()
		return mustRun(t, work, awsEnv(), awsCLI(), append([]string{"--endpoint-url", "http://" + addr}, args...)...)
	}
	body := strings.Repeat("arm64 under qemu\n", 4096)
	src, dst := filepath.Join(work, "up"), filepath.Join(work, "down")
	if err := os.WriteFile(src, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	aws("s3", "mb", "s3://smoke")
	aws("s3", "cp", "--no-progress", src, "s3://smoke/a/b.txt")
	aws("s3", "cp", "--no-progress", "s3://smoke/a/b.txt", dst)
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != body {
		t.Fatalf("read back %d bytes (%v), want %d identical bytes", len(got), err, len(body))
	}
	// An unsigned request is refused: the endpoint is not open to anyone.
	if out := mustRun(t, work, nil, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://"+addr+"/smoke/a/b.txt"); out != "403" {
		t.Fatalf("unsigned GET: HTTP %s, want 403", out)
	}
}
