package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

// restoreTimeout bounds one restore.
const restoreTimeout = time.Hour

// restorer is one of the clients compared.
type restorer struct {
	name string
	// command restores sc into the empty directory dest.
	command func(sc *scenario, dest string) (*exec.Cmd, error)
	// check says whether dest holds sc, given the command's stderr.
	check func(sc *scenario, dest, stderr string) error
}

func newClients(c config, rem remoteSetup, work string) ([]restorer, error) {
	var ipas []restorer
	for _, extra := range strings.Split(c.restoreArgs, ";") {
		ipas = append(ipas, ipasRestorer(c, rem, ipasName, c.gateway, strings.Fields(extra)))
		if c.baseline != "" {
			ipas = append(ipas, ipasRestorer(c, rem, "ipas before", c.baseline, strings.Fields(extra)))
		}
	}

	awsCfg := filepath.Join(work, "aws.config")
	conf := "[default]\nregion = " + benchRegion + "\ns3 =\n  addressing_style = path\n"
	if err := os.WriteFile(awsCfg, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	awsEnv := append(benchkit.CleanEnv("AWS_"), "AWS_CONFIG_FILE="+awsCfg, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(work, "none"),
		"AWS_ACCESS_KEY_ID="+benchAccessKey, "AWS_SECRET_ACCESS_KEY="+benchSecretKey, "AWS_PAGER=")
	awsSync := restorer{name: "aws s3 sync", command: func(sc *scenario, dest string) (*exec.Cmd, error) {
		cmd := exec.Command(c.aws, "s3", "sync", "s3://"+remoteBucket+"/"+sc.prefix+"/"+sc.bucket, dest,
			"--endpoint-url", rem.endpoint, "--only-show-errors", "--no-progress")
		cmd.Env = awsEnv
		return cmd, nil
	}, check: checkFiles}

	rcloneCfg := filepath.Join(work, "rclone.conf")
	if err := os.WriteFile(rcloneCfg, nil, 0o600); err != nil {
		return nil, err
	}
	rcloneEnv := append(benchkit.CleanEnv("AWS_", "RCLONE_"), "RCLONE_CONFIG="+rcloneCfg, "RCLONE_CONFIG_BENCH_TYPE=s3",
		"RCLONE_CONFIG_BENCH_PROVIDER=Other", "RCLONE_CONFIG_BENCH_REGION="+benchRegion,
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+benchAccessKey, "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+benchSecretKey,
		"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true", "RCLONE_CONFIG_BENCH_ENDPOINT="+rem.endpoint)
	rclone := restorer{name: fmt.Sprintf("rclone copy --transfers %d", rcloneTransfers), command: func(sc *scenario, dest string) (*exec.Cmd, error) {
		cmd := exec.Command(c.rclone, "copy", "--transfers", strconv.Itoa(rcloneTransfers), "-q",
			"bench:"+remoteBucket+"/"+sc.prefix+"/"+sc.bucket, dest)
		cmd.Env = rcloneEnv
		return cmd, nil
	}, check: checkFiles}
	byName := map[string][]restorer{"ipas": ipas, "aws": {awsSync}, "rclone": {rclone}}
	var out []restorer
	for _, name := range strings.Split(c.clients, ",") {
		cls, ok := byName[strings.TrimSpace(name)]
		if !ok {
			return nil, fmt.Errorf("-clients: unknown client %q (ipas, aws, rclone)", name)
		}
		out = append(out, cls...)
	}
	if len(out) == 0 || !strings.HasPrefix(out[0].name, ipasName) && c.many > 0 {
		return nil, fmt.Errorf("-clients %q: -many restores with the first client, which must be ipas", c.clients)
	}
	return out, nil
}

// ipasName names `gateway restore` in the table, followed by its extra arguments.
const ipasName = "ipas gateway restore"

// ipasRestorer runs `gateway restore` of the scenario's bucket with extra arguments.
func ipasRestorer(c config, rem remoteSetup, name, bin string, extra []string) restorer {
	if len(extra) > 0 {
		name += " " + strings.Join(extra, " ")
	}
	return restorer{name: name, command: func(sc *scenario, dest string) (*exec.Cmd, error) {
		cfg, err := rem.configFile(sc.prefix)
		if err != nil {
			return nil, err
		}
		args := append([]string{"restore", "--config", cfg, "--data-dir", filepath.Join(dest, "data"), "--bucket", sc.bucket}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), rem.env(rem.endpoint)...)
		if c.cpuProfile != "" {
			cmd.Env = append(cmd.Env, "IPAS_CPUPROFILE="+c.cpuProfile+"-"+sc.bucket+"-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".prof")
		}
		return cmd, nil
	}, check: checkIPAS}
}

// restoreOnce runs one client's restore of sc into a fresh directory, checks
// the result and removes it; px (nil for none) counts what it fetched.
func restoreOnce(ctx context.Context, cl restorer, sc *scenario, work string, px *benchkit.Proxy, logw io.Writer) (measure, error) {
	dest, err := os.MkdirTemp(work, "restore-")
	if err != nil {
		return measure{}, err
	}
	defer func() {
		os.RemoveAll(dest)
		syncfs(work) // the deletes must not land in the next client's time
	}()
	cmd, err := cl.command(sc, dest)
	if err != nil {
		return measure{}, err
	}
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = io.MultiWriter(&stderr, logw)
	fmt.Fprintf(logw, "=== %s: %s\n", sc.name, strings.Join(cmd.Args, " "))
	syncfs(work)
	m := measure{load: loadAvg(), objects: sc.objects, bytes: sc.bytes}
	var received, conns int64
	if px != nil {
		received, conns = px.Received(), px.Connections()
	}
	ctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return m, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	peak := benchkit.WatchPeakRSS(cmd.Process.Pid)
	err = cmd.Wait()
	m.elapsed = time.Since(start)
	if px != nil {
		m.fetched, m.conns = px.Received()-received, px.Connections()-conns
	}
	stop()
	m.rssKiB = peak()
	syncfs(dest)
	m.synced = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(stderr.String()))
	}
	if err := cl.check(sc, dest, stderr.String()); err != nil {
		return m, err
	}
	return m, nil
}

// restoredLine is restore's summary: "restore: N restored (...), S skipped, F failed".
var restoredLine = regexp.MustCompile(`restore: (\d+) restored \([^)]*\), (\d+) skipped, (\d+) failed`)

func checkIPAS(sc *scenario, _ string, stderr string) error {
	m := restoredLine.FindStringSubmatch(stderr)
	if m == nil {
		return fmt.Errorf("gateway restore printed no summary:\n%s", tail(stderr))
	}
	if n, _ := strconv.ParseInt(m[1], 10, 64); n != sc.objects || m[3] != "0" {
		return fmt.Errorf("gateway restore: %s restored, %s failed, want %d restored:\n%s", m[1], m[3], sc.objects, tail(stderr))
	}
	return nil
}

// checkFiles counts the files under dest and their bytes.
func checkFiles(sc *scenario, dest, _ string) error {
	var n, size int64
	err := filepath.WalkDir(dest, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n, size = n+1, size+info.Size()
		return nil
	})
	if err != nil {
		return err
	}
	if n != sc.objects || size != sc.bytes {
		return fmt.Errorf("%s holds %d files, %d bytes; want %d, %d", dest, n, size, sc.objects, sc.bytes)
	}
	return nil
}

// syncfs flushes the filesystem that holds dir.
func syncfs(dir string) {
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	defer f.Close()
	unix.Syncfs(int(f.Fd()))
}

func tail(s string) string {
	const keep = 4000
	if len(s) > keep {
		return "..." + s[len(s)-keep:]
	}
	return s
}
