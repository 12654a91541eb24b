package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

// client is one uploader compared: run copies the file set to the remote
// under prefix and says what that cost.
type client struct {
	name, slug string
	// under is where the files land inside the run's prefix ("" or "photos/").
	under string
	run   func(ctx context.Context, set *fileSet, prefix string) (measure, error)
}

// measure is one run of one client.
type measure struct {
	elapsed time.Duration
	cpu     time.Duration // the client's
	server  time.Duration // versitygw's, over the run
	load    string
}

func (m measure) rate(files int) float64 { return float64(files) / m.elapsed.Seconds() }

func (m measure) cpuPerFile(files int) float64 { return perFile(m.cpu, files) }

func (m measure) serverPerFile(files int) float64 { return perFile(m.server, files) }

// perFile is d per file, in milliseconds.
func perFile(d time.Duration, files int) float64 {
	return float64(d.Microseconds()) / 1000 / float64(files)
}

func newClients(c config, endpoint, work string, logw io.Writer) ([]*client, error) {
	var out []*client
	want := map[string]bool{}
	for _, name := range strings.Split(c.clients, ",") {
		want[strings.TrimSpace(name)] = true
	}
	if want["ipas"] {
		if c.smallObjects == "" {
			out = append(out, ipasClient(endpoint, work, "ipas", "ipas", c.gateway, 0, logw))
		}
		for _, v := range strings.Split(c.smallObjects, ",") {
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("-small-objects %q: %w", c.smallObjects, err)
			}
			out = append(out, ipasClient(endpoint, work, "ipas small_objects: "+v, "ipas"+v, c.gateway, n, logw))
		}
	}
	if want["before"] && c.baseline != "" {
		out = append(out, ipasClient(endpoint, work, "ipas before", "before", c.baseline, 0, logw))
	}

	rcloneCfg := filepath.Join(work, "rclone.conf")
	if err := os.WriteFile(rcloneCfg, nil, 0o600); err != nil {
		return nil, err
	}
	// Without AWS_CA_BUNDLE: Debian's rclone refuses to start with it set.
	rcloneEnv := append(benchkit.CleanEnv("AWS_", "RCLONE_"), "RCLONE_CONFIG="+rcloneCfg, "RCLONE_CONFIG_VGW_TYPE=s3",
		"RCLONE_CONFIG_VGW_PROVIDER=Other", "RCLONE_CONFIG_VGW_REGION="+benchRegion,
		"RCLONE_CONFIG_VGW_ACCESS_KEY_ID="+benchAccessKey, "RCLONE_CONFIG_VGW_SECRET_ACCESS_KEY="+benchSecretKey,
		"RCLONE_CONFIG_VGW_FORCE_PATH_STYLE=true", "RCLONE_CONFIG_VGW_ENDPOINT="+endpoint)
	rclone := &client{
		name: fmt.Sprintf("rclone copy --transfers %d", c.transfers), slug: "rclone",
		run: func(ctx context.Context, set *fileSet, prefix string) (measure, error) {
			cmd := exec.Command(c.rclone, "copy", "--transfers", strconv.Itoa(c.transfers), "-q",
				set.dir, "vgw:"+remoteBucket+"/"+prefix)
			cmd.Env = rcloneEnv
			return runCommand(ctx, cmd, logw)
		}}
	if want["rclone"] {
		out = append(out, rclone)
	}

	awsCfg := filepath.Join(work, "aws.config")
	conf := "[default]\nregion = " + benchRegion + "\ns3 =\n  addressing_style = path\n"
	if err := os.WriteFile(awsCfg, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	awsEnv := append(benchkit.CleanEnv("AWS_"), "AWS_CONFIG_FILE="+awsCfg, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(work, "none"),
		"AWS_ACCESS_KEY_ID="+benchAccessKey, "AWS_SECRET_ACCESS_KEY="+benchSecretKey, "AWS_PAGER=")
	awsSync := &client{
		name: "aws s3 sync", slug: "aws",
		run: func(ctx context.Context, set *fileSet, prefix string) (measure, error) {
			cmd := exec.Command(c.aws, "s3", "sync", set.dir, "s3://"+remoteBucket+"/"+prefix,
				"--endpoint-url", endpoint, "--only-show-errors", "--no-progress")
			cmd.Env = awsEnv
			return runCommand(ctx, cmd, logw)
		}}
	if want["aws"] {
		out = append(out, awsSync)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-clients %q: none of ipas, before (with -baseline), rclone, aws", c.clients)
	}
	return out, nil
}

// runCommand times cmd from its start to its exit; its CPU is the process's
// and its children's.
func runCommand(ctx context.Context, cmd *exec.Cmd, logw io.Writer) (measure, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd.Stdout, cmd.Stderr = logw, logw
	fmt.Fprintf(logw, "=== %v\n", cmd.Args)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measure{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	defer stop()
	err := cmd.Wait()
	m := measure{elapsed: time.Since(start)}
	if err != nil {
		return m, fmt.Errorf("%s: %w (output in bench.log)", cmd.Path, err)
	}
	m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return m, nil
}
