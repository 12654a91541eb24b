package benchkit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	// GatewayReadyTimeout bounds the wait for `gateway serve` to be ready.
	GatewayReadyTimeout = 60 * time.Second
	// GatewayStopTimeout is how long the daemon gets to exit after SIGTERM
	// (a clean shutdown uploads the remote index).
	GatewayStopTimeout = 5 * time.Minute
)

// Gateway is a `gateway serve` process.
type Gateway struct {
	Endpoint string // the S3 endpoint it logged when ready
	Console  string // the web console's URL it logged ("" when off)
	cmd      *exec.Cmd
	exited   chan struct{}
	err      error // cmd.Wait's, once exited is closed
}

// StartServe runs `bin serve args...` with env added to this environment,
// copies its stderr to logw and waits for its "gateway ready" line.
func StartServe(ctx context.Context, bin string, args, env []string, logw io.Writer) (*Gateway, error) {
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	g := &Gateway{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(logw, sc.Text())
			if !strings.Contains(sc.Text(), "gateway ready") {
				continue
			}
			var line struct {
				Endpoint string `json:"s3_endpoint"`
				Console  string `json:"console"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Endpoint != "" {
				g.Console = line.Console // read after ready is received
				select {
				case ready <- line.Endpoint:
				default:
				}
			}
		}
	}()
	go func() { <-scanned; g.err = cmd.Wait(); close(g.exited) }()
	select {
	case g.Endpoint = <-ready:
		return g, nil
	case <-g.exited:
		return nil, fmt.Errorf("start gateway: exited before it was ready: %v", g.err)
	case <-time.After(GatewayReadyTimeout):
		g.Stop()
		return nil, fmt.Errorf("start gateway: not ready within %v", GatewayReadyTimeout)
	case <-ctx.Done():
		g.Stop()
		return nil, ctx.Err()
	}
}

// Pid is the process ID of the daemon.
func (g *Gateway) Pid() int { return g.cmd.Process.Pid }

// Stop sends SIGTERM and waits for a clean exit (SIGKILL after
// GatewayStopTimeout); it returns an error unless the daemon exited cleanly.
func (g *Gateway) Stop() error {
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(GatewayStopTimeout):
		g.cmd.Process.Kill()
		<-g.exited
		return fmt.Errorf("gateway: no exit within %v of SIGTERM", GatewayStopTimeout)
	}
	if g.err != nil {
		return fmt.Errorf("gateway: %w", g.err)
	}
	return nil
}
