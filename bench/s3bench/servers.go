package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

const (
	// readyTimeout bounds the wait for a server to accept S3 requests.
	readyTimeout = 30 * time.Second
	// stopTimeout is how long a server gets to exit after SIGTERM.
	stopTimeout = 30 * time.Second
	// benchAccessKey and benchSecretKey are the credential every server gets.
	benchAccessKey = "s3bench"
	benchSecretKey = "s3bench-secret-key-0123456789"
)

// server is one S3 server under test: a child process, or the gateway running
// inside this process (-inprocess), which has no process of its own to stop.
type server struct {
	name     string
	endpoint string
	pid      int
	gw       *benchkit.Gateway // the gateway as a child process
	logFile  *os.File          // gw's log file, when it has one
	cmd      *exec.Cmd         // versitygw or minio
	shutdown func()            // in process: stops the gateway
	exited   chan struct{}     // closed when cmd or the in-process gateway has stopped
	dataDir  string
}

// gatewayPausedConfig is the config file of a gateway that does not replicate:
// with no remote configured, `gateway serve` copies every object to an embedded
// second archive on the same disk, which would measure the S3 path and a second
// writer at once.
const gatewayPausedConfig = "replication:\n  paused: true\n"

// startGateway runs `gateway serve` from bin over a fresh directory under root and
// waits for its "gateway ready" line. Replication is paused unless replicate is set.
// Every line the gateway writes to stderr goes to logPath too, when set.
func startGateway(ctx context.Context, bin, root string, replicate bool, logPath string) (*server, error) {
	var logFile *os.File
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, fmt.Errorf("start gateway: %w", err)
		}
		logFile = f
	}
	dir, err := os.MkdirTemp(root, "ipas-")
	if err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	args := []string{"--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0", "--log-level", "info"}
	if !replicate {
		cfg := filepath.Join(dir, "ipas.yaml")
		if err := os.WriteFile(cfg, []byte(gatewayPausedConfig), 0o600); err != nil {
			return nil, fmt.Errorf("start gateway: %w", err)
		}
		args = append(args, "--config", cfg)
	}
	// Ports of their own for the console and metrics, so that two gateways (and
	// other programs on this machine) can run side by side.
	env := []string{"IPAS_ACCESS_KEY=" + benchAccessKey, "IPAS_SECRET_KEY=" + benchSecretKey, "IPAS_CONSOLE_ADDR=127.0.0.1:0",
		"IPAS_METRICS_ADDR=127.0.0.1:0"}
	g, err := benchkit.StartServe(ctx, bin, args, env, gatewayLog{logFile})
	if err != nil {
		if logFile != nil {
			logFile.Close()
		}
		return nil, err
	}
	return &server{name: "ipas gateway", endpoint: g.Endpoint, pid: g.Pid(), gw: g, logFile: logFile, dataDir: dir}, nil
}

// gatewayLog takes the gateway's stderr a line a Write: it copies every line to
// f, when set, and warnings and errors to this process's stderr.
type gatewayLog struct{ f *os.File }

func (l gatewayLog) Write(p []byte) (int, error) {
	if l.f != nil {
		l.f.Write(p)
	}
	if bytes.Contains(p, []byte(`"level":"warn"`)) || bytes.Contains(p, []byte(`"level":"error"`)) {
		fmt.Fprint(os.Stderr, "ipas gateway: ", string(p))
	}
	return len(p), nil
}

// startVersity runs `versitygw posix` from bin over a fresh directory under root
// and waits until its port accepts connections.
func startVersity(ctx context.Context, bin, root string, versioning bool) (*server, error) {
	dir, addr, err := childPlace(root, "versitygw")
	if err != nil {
		return nil, err
	}
	args := []string{"-a", benchAccessKey, "-s", benchSecretKey, "--port", addr, "-q", "posix"}
	buckets := dir
	if versioning {
		// Its versions live in their own directory, beside the buckets'.
		buckets = filepath.Join(dir, "buckets")
		vdir := filepath.Join(dir, "versions")
		if err := errors.Join(os.Mkdir(buckets, 0o755), os.Mkdir(vdir, 0o755)); err != nil {
			return nil, fmt.Errorf("start versitygw: %w", err)
		}
		args = append(args, "--versioning-dir", vdir)
	}
	cmd := exec.Command(bin, append(args, buckets)...)
	return startChild(ctx, "versitygw", cmd, addr, dir)
}

// startMinIO runs `minio server` (single drive) from bin over a fresh directory
// under root, its console off, and waits until its port accepts connections.
func startMinIO(ctx context.Context, bin, root string) (*server, error) {
	dir, addr, err := childPlace(root, "minio")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr, dir)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+benchAccessKey, "MINIO_ROOT_PASSWORD="+benchSecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	s, err := startChild(ctx, "minio", cmd, addr, dir)
	if err != nil {
		return nil, err
	}
	// MinIO listens before it has initialised its drive, answering 503 meanwhile.
	for deadline := time.Now().Add(readyTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		res, err := http.Get(s.endpoint + "/minio/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("start minio: not ready within %v", readyTimeout)
}

// childPlace makes a fresh data directory under root for the server name and
// picks a free loopback address for it.
func childPlace(root, name string) (dir, addr string, err error) {
	if dir, err = os.MkdirTemp(root, name+"-"); err != nil {
		return "", "", fmt.Errorf("start %s: %w", name, err)
	}
	port, err := freePort()
	if err != nil {
		return "", "", fmt.Errorf("start %s: %w", name, err)
	}
	return dir, "127.0.0.1:" + strconv.Itoa(port), nil
}

// startChild starts cmd, a server that keeps its data in dir, and waits until
// addr accepts connections.
func startChild(ctx context.Context, name string, cmd *exec.Cmd, addr, dir string) (*server, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, endpoint: "http://" + addr, pid: cmd.Process.Pid, cmd: cmd, exited: make(chan struct{}), dataDir: dir}
	go func() { cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("start %s: exited before it was ready", name)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("start %s: not listening within %v", name, readyTimeout)
}

// stop ends the server with SIGTERM (SIGKILL after stopTimeout) and removes its data.
func (s *server) stop() {
	if s.gw != nil {
		s.gw.Stop()
		if s.logFile != nil {
			s.logFile.Close()
		}
		os.RemoveAll(s.dataDir)
		return
	}
	if s.cmd == nil {
		s.shutdown()
		<-s.exited
		os.RemoveAll(s.dataDir)
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dataDir)
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux clear_refs 5).
func (s *server) resetPeakRSS() error {
	path := filepath.Join("/proc", strconv.Itoa(s.pid), "clear_refs")
	if err := os.WriteFile(path, []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak rss of %s: %w", s.name, err)
	}
	return nil
}

// peakRSS returns the server's VmHWM in bytes.
func (s *server) peakRSS() (int64, error) { return s.status("VmHWM") }

// status returns a size field of /proc/PID/status (VmHWM, RssAnon...) in bytes.
func (s *server) status(field string) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.pid), "status"))
	if err != nil {
		return 0, fmt.Errorf("%s of %s: %w", field, s.name, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == field+":" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s of %s: %w", field, s.name, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s of %s: no such line", field, s.name)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times on Linux.
const clockTicks = 100

// cpuTime returns the CPU time (user + system) the server has used so far. On a
// shared machine it is a steadier measure of a server's cost than throughput.
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("cpu time of %s: %w", s.name, err)
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time of %s: short stat line", s.name)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cpu time of %s: bad stat line", s.name)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// cpuMeter starts counting the server's CPU time; the returned function gives the
// time used since (0 when /proc cannot tell).
func (s *server) cpuMeter() func() time.Duration {
	start, err := s.cpuTime()
	return func() time.Duration {
		end, err2 := s.cpuTime()
		if err != nil || err2 != nil {
			return 0
		}
		return end - start
	}
}

// rssSampleInterval is how often sampleRSS reads the server's RSS split.
const rssSampleInterval = 50 * time.Millisecond

// sampleRSS polls the server's anonymous and file-backed RSS until the returned
// function is called, which gives their peaks in bytes. VmHWM has only the sum:
// the split says how much is the program's own memory and how much is its
// binary and mmapped files (clean pages the kernel can drop under pressure).
func (s *server) sampleRSS() func() (anon, file int64) {
	stop := make(chan struct{})
	done := make(chan struct{})
	var anon, file int64
	go func() {
		defer close(done)
		t := time.NewTicker(rssSampleInterval)
		defer t.Stop()
		for {
			if a, err := s.status("RssAnon"); err == nil {
				anon = max(anon, a)
			}
			if f, err := s.status("RssFile"); err == nil {
				file = max(file, f)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() (int64, int64) {
		close(stop)
		<-done
		return anon, file
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
