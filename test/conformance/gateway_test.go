package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// accessKey and secretKey are the one credential the gateway is started with.
	accessKey = "conformance"
	secretKey = "conformance-secret-key-0123456789"
	// buildTimeout bounds `go build ./cmd/gateway`.
	buildTimeout = 3 * time.Minute
	// readyTimeout bounds the wait for the "gateway ready" log line.
	readyTimeout = 30 * time.Second
	// stopTimeout is how long the gateway gets to exit after SIGTERM.
	stopTimeout = 15 * time.Second
	// envEndpoint points the suite at a server that is already running (for
	// example versitygw, to compare) instead of starting the gateway.
	envEndpoint = "IPAS_CONFORMANCE_ENDPOINT"
	envAccess   = "IPAS_CONFORMANCE_ACCESS_KEY"
	envSecret   = "IPAS_CONFORMANCE_SECRET_KEY"
)

// server is an S3 endpoint the suite runs against.
type server struct {
	endpoint, access, secret string
}

// startServer returns the endpoint named by IPAS_CONFORMANCE_ENDPOINT, or builds
// the gateway binary from this repository and starts it on 127.0.0.1:0 over a
// fresh data directory. The process is stopped when the test ends.
func startServer(t *testing.T) server {
	t.Helper()
	if ep := os.Getenv(envEndpoint); ep != "" {
		return server{endpoint: ep, access: os.Getenv(envAccess), secret: os.Getenv(envSecret)}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gateway")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gateway: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "serve", "--data-dir", filepath.Join(dir, "data"),
		"--s3-addr", "127.0.0.1:0", "--log-level", "info")
	cmd.Env = append(os.Environ(), "IPAS_ACCESS_KEY="+accessKey, "IPAS_SECRET_KEY="+secretKey, "IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("gateway stderr: %v", err)
	}
	logPath := filepath.Join(dir, "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("gateway log: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	ready := make(chan string, 1)
	var copied sync.WaitGroup
	copied.Add(1)
	go func() {
		defer copied.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			logFile.Write(append(sc.Bytes(), '\n'))
			if !sent && strings.Contains(sc.Text(), "gateway ready") {
				var line struct {
					Endpoint string `json:"s3_endpoint"`
				}
				if json.Unmarshal(sc.Bytes(), &line) == nil && line.Endpoint != "" {
					ready <- line.Endpoint
					sent = true
				}
			}
		}
	}()
	exited := make(chan struct{})
	var exitErr error
	go func() { copied.Wait(); exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-exited
			t.Errorf("gateway did not stop within %v of SIGTERM", stopTimeout)
		}
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("gateway log (last 4 KiB):\n%s", tail(b, 4<<10))
			}
		}
	})
	select {
	case ep := <-ready:
		return server{endpoint: ep, access: accessKey, secret: secretKey}
	case <-exited:
		t.Fatalf("gateway exited before it was ready: %v", exitErr)
	case <-time.After(readyTimeout):
		t.Fatalf("gateway not ready within %v", readyTimeout)
	}
	return server{}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
