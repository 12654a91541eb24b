package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
	"github.com/ipas/ipas/store"
)

const (
	// remoteBucket is the versitygw bucket every client uploads to.
	remoteBucket = "bench"
	// benchAccessKey and benchSecretKey are versitygw's root credentials.
	benchAccessKey = "replbench"
	benchSecretKey = "replbench-secret-key-0123456789"
	// benchRegion is what every client signs for.
	benchRegion = "us-east-1"
	// killPoll is how often the byte counter is read to time a kill.
	killPoll = 2 * time.Millisecond
	// transferSlack is added to a transfer's deadline beyond 3x its ideal time.
	transferSlack = 3 * time.Minute
)

// uploader is one of the clients compared.
type uploader struct {
	name string
	// prepare readies an upload of file under key and returns the command
	// that performs it (run again, unchanged, after a kill) and the object's
	// key in remoteBucket.
	prepare func(ctx context.Context, f *dataFile, key, endpoint string) (func() *exec.Cmd, string, error)
}

// dataFile is one test file, on disk and in the IPAS store.
type dataFile struct {
	path   string
	size   int64
	sha256 string
}

// transfer is what one upload (possibly killed and restarted) cost.
type transfer struct {
	sent    int64         // bytes through the proxy, every attempt together
	elapsed time.Duration // first byte through the proxy to the last process's exit
	hwmKiB  int64         // the IPAS child's peak RSS; 0 for the others
}

// runTransfer runs mk's command; when killAt > 0 it kills the process group
// with SIGKILL once killAt bytes went through px, then runs it again.
func runTransfer(ctx context.Context, mk func() *exec.Cmd, px *benchkit.Proxy, killAt int64, deadline time.Duration, logw io.Writer, atKill *int64) (transfer, error) {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	var out bytes.Buffer
	for {
		out.Reset()
		cmd := mk()
		cmd.Stdout, cmd.Stderr = &out, logw
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return transfer{}, fmt.Errorf("start %s: %w", cmd.Path, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		killed, err := watch(ctx, cmd.Process.Pid, exited, px, killAt)
		if killed {
			// What the dead process left in socket buffers (megabytes per
			// connection on loopback) must not reach the server afterwards, as
			// after a power cut: drop every connection through the proxy.
			if err := px.Cut(); err != nil {
				return transfer{}, err
			}
			*atKill = px.Sent()
			fmt.Fprintf(logw, "--- killed %s at %d bytes through the proxy\n", filepath.Base(cmd.Path), *atKill)
			killAt = 0
			continue
		}
		end := time.Now()
		if err != nil {
			return transfer{}, fmt.Errorf("%s: %w (stdout %q)", strings.Join(cmd.Args, " "), err, out.String())
		}
		t := transfer{sent: px.Sent(), elapsed: end.Sub(px.FirstByte())}
		var res childResult
		if json.Unmarshal(bytes.TrimSpace(out.Bytes()), &res) == nil {
			t.hwmKiB = res.HWMKiB
		}
		return t, nil
	}
}

// watch waits for the process to exit; it kills its group at killAt bytes
// (killed true) or when ctx ends.
func watch(ctx context.Context, pid int, exited <-chan error, px *benchkit.Proxy, killAt int64) (killed bool, err error) {
	tick := time.NewTicker(killPoll)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return false, err
		case <-ctx.Done():
			syscall.Kill(-pid, syscall.SIGKILL)
			<-exited
			return false, ctx.Err()
		case <-tick.C:
			if killAt > 0 && px != nil && px.Sent() >= killAt {
				syscall.Kill(-pid, syscall.SIGKILL)
				<-exited
				return true, nil
			}
		}
	}
}

func ipasUploader(self string, a *archive, blobs map[string]store.Blob) uploader {
	return uploader{name: "ipas", prepare: func(ctx context.Context, f *dataFile, key, endpoint string) (func() *exec.Cmd, string, error) {
		if err := a.queueObject(ctx, key, blobs[f.path]); err != nil {
			return nil, "", fmt.Errorf("queue %s: %w", key, err)
		}
		return func() *exec.Cmd { return childCommand(self, a, endpoint) }, ipasPrefix + "/" + localBucket + "/" + key, nil
	}}
}

// awsUploader runs `aws s3 cp` with its defaults (8 MiB parts, 10 requests
// in flight); only the addressing style is set, as versitygw needs it.
func awsUploader(bin, work string) (uploader, error) {
	cfg := filepath.Join(work, "aws.config")
	conf := "[default]\nregion = " + benchRegion + "\ns3 =\n  addressing_style = path\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return uploader{}, err
	}
	env := append(benchkit.CleanEnv("AWS_"), "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(work, "none"),
		"AWS_ACCESS_KEY_ID="+benchAccessKey, "AWS_SECRET_ACCESS_KEY="+benchSecretKey, "AWS_PAGER=")
	return uploader{name: "aws s3 cp", prepare: func(_ context.Context, f *dataFile, key, endpoint string) (func() *exec.Cmd, string, error) {
		rkey := "aws/" + key
		return func() *exec.Cmd {
			c := exec.Command(bin, "s3", "cp", f.path, "s3://"+remoteBucket+"/"+rkey, "--endpoint-url", endpoint, "--only-show-errors", "--no-progress")
			c.Env = env
			return c
		}, rkey, nil
	}}, nil
}

// rcloneUploader runs `rclone copy` with its defaults (5 MiB parts, 4 in
// flight, multipart from 200 MiB) against a remote defined in the environment.
func rcloneUploader(bin, work string) (uploader, error) {
	cfg := filepath.Join(work, "rclone.conf")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		return uploader{}, err
	}
	base := append(benchkit.CleanEnv("AWS_", "RCLONE_"), "RCLONE_CONFIG="+cfg, "RCLONE_CONFIG_BENCH_TYPE=s3",
		"RCLONE_CONFIG_BENCH_PROVIDER=Other", "RCLONE_CONFIG_BENCH_REGION="+benchRegion,
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+benchAccessKey, "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+benchSecretKey,
		"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true",
		// versitygw answers 500 to CreateBucket on a bucket made with mkdir.
		"RCLONE_CONFIG_BENCH_NO_CHECK_BUCKET=true")
	return uploader{name: "rclone copy", prepare: func(_ context.Context, f *dataFile, key, endpoint string) (func() *exec.Cmd, string, error) {
		env := append(base, "RCLONE_CONFIG_BENCH_ENDPOINT="+endpoint)
		return func() *exec.Cmd {
			c := exec.Command(bin, "copy", f.path, "bench:"+remoteBucket+"/rclone/"+key, "-q")
			c.Env = env
			return c
		}, "rclone/" + key + "/" + filepath.Base(f.path), nil
	}}, nil
}

// errMismatch: an upload finished but the remote bytes differ.
var errMismatch = errors.New("remote object differs from the file")
