package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/bench/internal/benchkit"
	"github.com/ipas/ipas/remoteindex"
)

const (
	// putWriters put the small objects at once, as a backup client would.
	putWriters = 16
	// largePartSize and largeConcurrency are the transfer manager's upload
	// settings for the large objects (multipart, as clients send big files).
	largePartSize    = 16 << 20
	largeConcurrency = 4
	// replicatePoll is how often the daemon's status is read while it replicates.
	replicatePoll = 500 * time.Millisecond
	// replicateTimeout bounds the wait for the daemon to empty its queue.
	replicateTimeout = 30 * time.Minute
)

// remoteSetup is the versitygw remote and how a gateway reaches it.
type remoteSetup struct {
	vgw  *benchkit.Versity
	work string
	// endpoint is where every client restores from: versitygw, or a proxy
	// in front of it shaped by -remote-rate and -remote-latency (populating
	// goes straight to versitygw).
	endpoint string
}

// configFile writes (once) the gateway config for the remote under prefix:
// snapshots of the index only at a clean shutdown.
func (r remoteSetup) configFile(prefix string) (string, error) {
	path := filepath.Join(r.work, "ipas-"+prefix+".yaml")
	cfg := "remote: {path_style: true, prefix: " + prefix + ", index_interval: 0s}\n"
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// env is what a gateway needs to reach the remote at endpoint, and its own
// S3 credential.
func (r remoteSetup) env(endpoint string) []string {
	return []string{"IPAS_ACCESS_KEY=" + ipasAccessKey, "IPAS_SECRET_KEY=" + ipasSecretKey, "IPAS_CONSOLE_ADDR=127.0.0.1:0",
		"IPAS_REMOTE_ENDPOINT=" + endpoint, "IPAS_REMOTE_BUCKET=" + remoteBucket, "IPAS_REMOTE_REGION=" + benchRegion,
		"IPAS_REMOTE_ACCESS_KEY=" + benchAccessKey, "IPAS_REMOTE_SECRET_KEY=" + benchSecretKey}
}

// pointerPath is where versitygw keeps the remote index pointer of prefix.
func (r remoteSetup) pointerPath(prefix string) string {
	return filepath.Join(r.vgw.Dir, remoteBucket, prefix, ".ipas", remoteindex.PointerName)
}

// populateThroughIPAS puts every scenario's objects through a real daemon's
// S3 API, waits until it has replicated them all, and stops it cleanly (which
// uploads the remote index).
func populateThroughIPAS(ctx context.Context, c config, rem remoteSetup, scens []*scenario, logw io.Writer) error {
	cfg, err := rem.configFile(mainPrefix)
	if err != nil {
		return err
	}
	g, err := benchkit.StartServe(ctx, c.gateway, []string{"--config", cfg, "--data-dir", filepath.Join(rem.work, "source"), "--s3-addr", "127.0.0.1:0"},
		rem.env(rem.vgw.Endpoint()), logw)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			g.Stop()
		}
	}()
	cl := benchkit.NewS3Client(g.Endpoint, ipasAccessKey, ipasSecretKey)
	for _, sc := range scens {
		if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(sc.bucket)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", sc.bucket, err)
		}
		var objs []object
		switch sc.bucket {
		case largeBucket:
			objs = largeObjects(c)
			err = putLarge(ctx, cl, sc.bucket, objs)
		case smallBucket:
			objs = smallObjects(c, c.small, 1, func(i int) string { return fmt.Sprintf("dir%02d/file%05d.bin", i%100, i) })
			err = putSmall(ctx, cl, sc.bucket, objs)
		}
		if err != nil {
			return err
		}
		sc.objects, sc.bytes = int64(len(objs)), total(objs)
		fmt.Fprintf(os.Stderr, "put %d objects (%s) into bucket %s\n", len(objs), mib(sc.bytes), sc.bucket)
	}
	ac := &admin.Client{Endpoint: g.Endpoint, Region: benchRegion, AccessKey: ipasAccessKey, SecretKey: ipasSecretKey, HTTP: http.DefaultClient}
	for deadline := time.Now().Add(replicateTimeout); ; time.Sleep(replicatePoll) {
		st, err := ac.Status(ctx)
		if err == nil && st.Journal.Jobs == 0 && st.Offsite.PendingObjects == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replication did not finish in %v (%+v, %v)", replicateTimeout, st.Offsite, err)
		}
	}
	stopped = true
	if err := g.Stop(); err != nil {
		return err
	}
	if _, err := os.Stat(rem.pointerPath(mainPrefix)); err != nil {
		return fmt.Errorf("the daemon's shutdown left no remote index: %w", err)
	}
	return nil
}

func putLarge(ctx context.Context, cl *s3.Client, bucket string, objs []object) error {
	up := manager.NewUploader(cl, func(u *manager.Uploader) {
		u.PartSize = largePartSize
		u.Concurrency = largeConcurrency
	})
	for _, o := range objs {
		if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key), Body: o.body(),
			ContentType: aws.String("video/mp4")}); err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, o.key, err)
		}
	}
	return nil
}

func putSmall(ctx context.Context, cl *s3.Client, bucket string, objs []object) error {
	return parallel(len(objs), putWriters, func(i int) error {
		o := objs[i]
		body, err := io.ReadAll(o.body())
		if err == nil {
			_, err = cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key), Body: bytes.NewReader(body)})
		}
		if err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, o.key, err)
		}
		return nil
	})
}

// parallel calls fn(0) to fn(n-1) from writers goroutines and returns the first
// error fn returns; after it, no further i is handed out.
func parallel(n, writers int, fn func(i int) error) error {
	work := make(chan int)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case work <- i:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}
