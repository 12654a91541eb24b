package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// versityReadyTimeout bounds the wait for versitygw to answer.
const versityReadyTimeout = 30 * time.Second

// versity is a versitygw process serving a posix directory on loopback.
type versity struct {
	addr string
	dir  string
	cmd  *exec.Cmd
}

func startVersity(ctx context.Context, bin, dir string, logw io.Writer) (*versity, error) {
	if err := os.MkdirAll(filepath.Join(dir, remoteBucket), 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "-a", benchAccessKey, "-s", benchSecretKey, "--port", addr, "posix", dir)
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	v := &versity{addr: addr, dir: dir, cmd: cmd}
	deadline := time.Now().Add(versityReadyTimeout)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return v, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			v.stop()
			return nil, fmt.Errorf("versitygw did not answer on %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (v *versity) endpoint() string { return "http://" + v.addr }

func (v *versity) stop() {
	v.cmd.Process.Kill()
	v.cmd.Wait()
}

// objectSHA256 hashes an object as versitygw stored it (posix: one file per
// object), which checks the upload without another trip through S3.
func (v *versity) objectSHA256(key string) (string, error) {
	return fileSHA256(filepath.Join(v.dir, remoteBucket, key))
}

// remove deletes an object's file to keep the disk from filling up.
func (v *versity) remove(key string) { os.Remove(filepath.Join(v.dir, remoteBucket, key)) }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
