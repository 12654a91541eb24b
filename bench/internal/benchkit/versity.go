package benchkit

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ipas/ipas/internal/testutil"
)

// VersityReadyTimeout bounds the wait for versitygw to answer.
const VersityReadyTimeout = 30 * time.Second

// VersityInstall is how to get versitygw, for the error when it is missing.
const VersityInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Versity is a versitygw process serving a posix directory on loopback.
type Versity struct {
	Addr string // 127.0.0.1:PORT
	Dir  string // the posix root: each subdirectory is a bucket
	cmd  *exec.Cmd
}

// StartVersity runs `versitygw posix` over dir (created, with the buckets)
// with the root credentials accessKey and secretKey, and waits until it
// answers. Its output goes to logw.
func StartVersity(ctx context.Context, dir, accessKey, secretKey string, logw io.Writer, buckets ...string) (*Versity, error) {
	bin := testutil.VersityGWBinary()
	if bin == "" {
		return nil, fmt.Errorf("versitygw is not installed: %s", VersityInstall)
	}
	for _, b := range buckets {
		if err := os.MkdirAll(filepath.Join(dir, b), 0o755); err != nil {
			return nil, fmt.Errorf("start versitygw: %w", err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "-a", accessKey, "-s", secretKey, "--port", addr, "posix", dir)
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	v := &Versity{Addr: addr, Dir: dir, cmd: cmd}
	deadline := time.Now().Add(VersityReadyTimeout)
	for {
		resp, err := http.Get(v.Endpoint() + "/")
		if err == nil {
			resp.Body.Close()
			return v, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			v.Stop()
			return nil, fmt.Errorf("versitygw did not answer on %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pid is versitygw's process ID.
func (v *Versity) Pid() int { return v.cmd.Process.Pid }

// Endpoint is the S3 endpoint URL.
func (v *Versity) Endpoint() string { return "http://" + v.Addr }

// Stop kills versitygw; its directory stays.
func (v *Versity) Stop() {
	v.cmd.Process.Kill()
	v.cmd.Wait()
}
