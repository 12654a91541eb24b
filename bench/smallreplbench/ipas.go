package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/bench/internal/benchkit"
)

const (
	// localBucket is the gateway's bucket; remote keys are PREFIX/localBucket/PATH.
	localBucket = "photos"
	// putWriters PUT the files into the gateway at once, as a backup client would.
	putWriters = 16
	// drainPoll is how often the daemon's status is read while it replicates.
	drainPoll = 100 * time.Millisecond
	// clockTicks is the unit of utime and stime in /proc/PID/stat (USER_HZ).
	clockTicks = 100
)

// ipasClient runs a gateway binary: the files go in through its S3 API while
// replication is paused, then the drain is timed from the resume.
func ipasClient(endpoint, work, name, slug, bin string, smallObjects int, logw io.Writer) *client {
	env := []string{"IPAS_ACCESS_KEY=" + ipasAccessKey, "IPAS_SECRET_KEY=" + ipasSecretKey,
		"IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0",
		"IPAS_REMOTE_ENDPOINT=" + endpoint, "IPAS_REMOTE_BUCKET=" + remoteBucket, "IPAS_REMOTE_REGION=" + benchRegion,
		"IPAS_REMOTE_ACCESS_KEY=" + benchAccessKey, "IPAS_REMOTE_SECRET_KEY=" + benchSecretKey}
	return &client{name: name, slug: slug, under: localBucket + "/", run: func(ctx context.Context, set *fileSet, prefix string) (measure, error) {
		dir := filepath.Join(work, "ipas-"+prefix)
		defer os.RemoveAll(dir)
		rep := "paused: true"
		if smallObjects > 0 {
			rep += ", small_objects: " + strconv.Itoa(smallObjects)
		}
		cfg := filepath.Join(work, "ipas-"+prefix+".yaml")
		yaml := "remote: {path_style: true, prefix: " + prefix + ", index_interval: 0s}\nreplication: {" + rep + "}\ndrop: {folders: []}\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			return measure{}, err
		}
		g, err := benchkit.StartServe(ctx, bin, []string{"--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0"}, env, logw)
		if err != nil {
			return measure{}, err
		}
		defer g.Stop()
		if err := putFiles(ctx, g.Endpoint, set); err != nil {
			return measure{}, err
		}
		ac := &admin.Client{Endpoint: g.Endpoint, Region: benchRegion, AccessKey: ipasAccessKey, SecretKey: ipasSecretKey, HTTP: http.DefaultClient}
		return drain(ctx, ac, g.Pid(), len(set.files), logw)
	}}
}

// putFiles PUTs every file into localBucket, putWriters at a time.
func putFiles(ctx context.Context, endpoint string, set *fileSet) error {
	cl := benchkit.NewS3Client(endpoint, ipasAccessKey, ipasSecretKey)
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(localBucket)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", localBucket, err)
	}
	errs := make([]error, putWriters)
	var wg sync.WaitGroup
	for w := range putWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(set.files) && errs[w] == nil; i += putWriters {
				f := set.files[i]
				body, err := os.ReadFile(filepath.Join(set.dir, f.path))
				if err == nil {
					_, err = cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(localBucket), Key: aws.String(f.path), Body: bytes.NewReader(body)})
				}
				if err != nil {
					errs[w] = fmt.Errorf("put %s: %w", f.path, err)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// drain resumes replication and waits until the daemon says every object is
// offsite; it measures the wall time and the daemon's CPU in between.
func drain(ctx context.Context, ac *admin.Client, pid, files int, logw io.Writer) (measure, error) {
	cpu0, err := processCPU(pid)
	if err != nil {
		return measure{}, err
	}
	start := time.Now()
	if err := ac.Resume(ctx); err != nil {
		return measure{}, fmt.Errorf("resume: %w", err)
	}
	var peak admin.Totals
	for deadline := start.Add(runTimeout); ; time.Sleep(drainPoll) {
		st, err := ac.Status(ctx)
		if err == nil {
			peak.Rate, peak.ObjectRate = max(peak.Rate, st.Totals.Rate), max(peak.ObjectRate, st.Totals.ObjectRate)
			if st.Offsite.PendingObjects == 0 && st.Totals.ReplicatedObjects >= int64(files) {
				break
			}
		}
		if time.Now().After(deadline) {
			return measure{}, fmt.Errorf("replication did not finish in %v (%+v, %v)", runTimeout, st.Offsite, err)
		}
	}
	m := measure{elapsed: time.Since(start)}
	cpu1, err := processCPU(pid)
	if err != nil {
		return m, err
	}
	m.cpu = cpu1 - cpu0
	fmt.Fprintf(logw, "=== drained %d objects in %s; status showed up to %.0f B/s and %.1f objects/s\n",
		files, m.elapsed, peak.Rate, peak.ObjectRate)
	return m, nil
}

// processCPU is utime+stime of a process, from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from the ')' after it.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest) // f[0] is field 3 (state): utime is field 14, stime 15
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
