// This file starts real servers for tests: versitygw as an independent S3 server,
// toxiproxy proxies for network faults.

package testutil

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// VersityGW is a versitygw process serving a posix directory on loopback.
type VersityGW struct {
	Endpoint  string // http://127.0.0.1:PORT
	Addr      string // 127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Dir       string // the posix root: each subdirectory is a bucket
	// VersionsDir, when set, is versitygw's --versioning-dir: its buckets
	// can then have versioning and Object Lock (StartVersityGWVersioning).
	VersionsDir string
	cmd         *exec.Cmd
	out         *bytes.Buffer
}

// versityInstall is how to get the binary, for the skip message.
const versityInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// VersityGWBinary returns the path of versitygw (PATH or $GOPATH/bin), or "".
func VersityGWBinary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "versitygw")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// StartVersityGW starts versitygw on a free loopback port with a fresh root
// directory and the given buckets, and stops it when the test ends. It skips
// the test when the binary is not installed.
func StartVersityGW(t testing.TB, buckets ...string) *VersityGW {
	t.Helper()
	bin := VersityGWBinary()
	if bin == "" {
		MissingTool(t, "versitygw", versityInstall)
	}
	dir := t.TempDir()
	for _, b := range buckets {
		if err := os.Mkdir(filepath.Join(dir, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g := &VersityGW{AccessKey: "ipastestkey", SecretKey: "ipastestsecret0123456789", Dir: dir}
	g.start(t, bin)
	return g
}

func (g *VersityGW) start(t testing.TB, bin string) {
	t.Helper()
	addr := FreeAddr(t)
	g.Addr, g.Endpoint = addr, "http://"+addr
	g.out = &bytes.Buffer{}
	args := []string{"-a", g.AccessKey, "-s", g.SecretKey, "--port", addr, "posix"}
	if g.VersionsDir != "" {
		args = append(args, "--versioning-dir", g.VersionsDir)
	}
	g.cmd = exec.Command(bin, append(args, g.Dir)...)
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(g.Stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(g.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s: %v\n%s", addr, err, g.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the process (idempotent).
func (g *VersityGW) Stop() {
	if g.cmd != nil && g.cmd.Process != nil {
		g.cmd.Process.Kill()
		g.cmd.Wait()
		g.cmd = nil
	}
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// String describes the server for test logs.
func (g *VersityGW) String() string { return fmt.Sprintf("versitygw %s root %s", g.Endpoint, g.Dir) }
