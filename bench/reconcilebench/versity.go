package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"time"
)

const (
	accessKey = "reconcilebench"
	secretKey = "reconcilebench-secret"
)

// versity is a versitygw process serving a posix directory on loopback.
type versity struct {
	addr string
	cmd  *exec.Cmd
}

func startVersity(ctx context.Context, bin, dir string) (*versity, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "-a", accessKey, "-s", secretKey, "--port", addr, "posix", dir)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0): %w", err)
	}
	v := &versity{addr: addr, cmd: cmd}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return v, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			v.stop()
			return nil, fmt.Errorf("versitygw did not answer on %s: %w", addr, err)
		}
	}
}

func (v *versity) endpoint() string { return "http://" + v.addr }

func (v *versity) stop() {
	v.cmd.Process.Kill()
	v.cmd.Wait()
}

// requestCounter counts the requests a client sends, by kind.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *requestCounter) client() *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		kind := "other"
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
			kind = "LIST"
		case r.Method == http.MethodHead:
			kind = "HEAD"
		case r.Method == http.MethodGet && r.URL.RawQuery == "" || r.URL.Query().Has("partNumber"):
			kind = "GET"
		}
		c.mu.Lock()
		if c.counts == nil {
			c.counts = map[string]int{}
		}
		c.counts[kind]++
		c.mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
}

func (c *requestCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
