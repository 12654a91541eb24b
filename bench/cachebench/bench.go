package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/bench/internal/benchkit"
)

const (
	remoteKey, remoteSecret = "cachebenchkey", "cachebench-secret-0123456789"
	remoteBucket, prefix    = "offsite", "pi1"
	gwKey, gwSecret         = "CACHEBENCHKEY", "cachebench-gateway-secret"
	replicatedTimeout       = 30 * time.Minute
)

type bench struct {
	cfg    config
	root   string
	v      *benchkit.Versity
	log    io.Writer
	g      *benchkit.Gateway
	c      *s3.Client // the gateway
	remote *s3.Client // versitygw itself
	admin  *admin.Client
}

func (b *bench) start(ctx context.Context) error {
	cfgPath := filepath.Join(b.root, "ipas.yaml")
	cfg := "remote: {path_style: true, prefix: " + prefix + ", index_interval: 0s}\nstore: {cache_on_read: never}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	env := []string{"IPAS_ACCESS_KEY=" + gwKey, "IPAS_SECRET_KEY=" + gwSecret,
		"IPAS_REMOTE_ENDPOINT=" + b.v.Endpoint(), "IPAS_REMOTE_BUCKET=" + remoteBucket, "IPAS_REMOTE_REGION=us-east-1",
		"IPAS_REMOTE_ACCESS_KEY=" + remoteKey, "IPAS_REMOTE_SECRET_KEY=" + remoteSecret,
		"IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0"}
	g, err := benchkit.StartServe(ctx, b.cfg.gateway, []string{"--config", cfgPath, "--data-dir", filepath.Join(b.root, "data"),
		"--s3-addr", "127.0.0.1:0"}, env, b.log)
	if err != nil {
		return err
	}
	b.g = g
	b.c = benchkit.NewS3Client(g.Endpoint, gwKey, gwSecret)
	b.remote = benchkit.NewS3Client(b.v.Endpoint(), remoteKey, remoteSecret)
	b.admin = &admin.Client{Endpoint: g.Endpoint, Region: "us-east-1", AccessKey: gwKey, SecretKey: gwSecret}
	return nil
}

func readerKey(i int) string { return fmt.Sprintf("obj-%03d", i) }

func (b *bench) populate(ctx context.Context) error {
	buckets := []string{"big", "readers", "small"}
	for i := range b.cfg.rounds {
		buckets = append(buckets, fmt.Sprintf("evict%d", i))
	}
	for _, bk := range buckets {
		if _, err := b.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bk)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", bk, err)
		}
	}
	big := filepath.Join(b.root, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, benchkit.RandReader(1), b.cfg.size); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	_, err = b.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("big"), Key: aws.String("obj"), Body: f})
	f.Close()
	os.Remove(big)
	if err != nil {
		return fmt.Errorf("put the big object: %w", err)
	}
	buf := make([]byte, b.cfg.readerSize)
	io.ReadFull(benchkit.RandReader(2), buf)
	for i := range b.cfg.readers + b.cfg.rounds {
		binary.BigEndian.PutUint64(buf, uint64(i)) // each object its own bytes
		if _, err := b.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("readers"), Key: aws.String(readerKey(i)),
			Body: bytes.NewReader(buf)}); err != nil {
			return fmt.Errorf("put %s: %w", readerKey(i), err)
		}
	}
	for r := range b.cfg.rounds {
		if _, err := b.putSmall(ctx, fmt.Sprintf("evict%d", r), "e", b.cfg.evictCount); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(replicatedTimeout)
	for {
		st, err := b.admin.Status(ctx)
		if err != nil {
			return err
		}
		if st.Offsite.PendingObjects == 0 && st.Journal.Jobs == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replication did not finish in %v", replicatedTimeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, bk := range []string{"big", "readers"} {
		r, err := b.admin.Evict(ctx, admin.CacheRequest{Bucket: bk})
		if err != nil {
			return fmt.Errorf("evict %s: %w", bk, err)
		}
		if r.Evicted != r.Matched {
			return fmt.Errorf("evict %s: %d of %d evicted", bk, r.Evicted, r.Matched)
		}
	}
	return nil
}

// putSmall PUTs n objects of 4 KiB under prefix into bucket from the
// configured number of writers, and returns their rate.
func (b *bench) putSmall(ctx context.Context, bucket, prefix string, n int) (float64, error) {
	body := make([]byte, 4<<10)
	io.ReadFull(benchkit.RandReader(3), body)
	var wg sync.WaitGroup
	errs := make(chan error, b.cfg.writers)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	start := time.Now()
	for range b.cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := bytes.Clone(body)
			for i := range next {
				binary.BigEndian.PutUint64(p, uint64(i)) // distinct blobs
				_, err := b.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(fmt.Sprintf("%s/%06d", prefix, i)), Body: bytes.NewReader(p)})
				if err != nil {
					errs <- fmt.Errorf("put %s/%s/%06d: %w", bucket, prefix, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(n) / took.Seconds(), nil
}

// firstByte GETs bucket/key whole from c and returns the time to its first
// body byte, then abandons the body.
func firstByte(ctx context.Context, c *s3.Client, bucket, key string) (time.Duration, error) {
	start := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	var one [1]byte
	if _, err := io.ReadFull(out.Body, one[:]); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// readAll GETs bucket/key whole from c and returns its rate in MiB/s.
func readAll(ctx context.Context, c *s3.Client, bucket, key string, size int64) (float64, error) {
	start := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, out.Body)
	out.Body.Close()
	if err == nil && n != size {
		err = fmt.Errorf("read %d bytes of %d", n, size)
	}
	if err != nil {
		return 0, fmt.Errorf("GET %s/%s: %w", bucket, key, err)
	}
	return float64(size) / (1 << 20) / time.Since(start).Seconds(), nil
}

// ttfb returns the median time to first byte in ms: read through, direct.
func (b *bench) ttfb(ctx context.Context) ([2]float64, error) {
	var through, direct []float64
	for r := range b.cfg.rounds {
		key := readerKey(b.cfg.readers + r)
		remoteKey := prefix + "/readers/" + key
		// Warm the remote's page cache for both alike.
		if _, err := readAll(ctx, b.remote, remoteBucket, remoteKey, b.cfg.readerSize); err != nil {
			return [2]float64{}, err
		}
		d, err := firstByte(ctx, b.remote, remoteBucket, remoteKey)
		if err != nil {
			return [2]float64{}, err
		}
		t, err := firstByte(ctx, b.c, "readers", key)
		if err != nil {
			return [2]float64{}, err
		}
		direct, through = append(direct, ms(d)), append(through, ms(t))
		fmt.Printf("ttfb round %d: read-through %.1f ms, direct %.1f ms\n", r+1, ms(t), ms(d))
		time.Sleep(300 * time.Millisecond) // the abandoned read-ahead ends
	}
	return [2]float64{benchkit.Median(through), benchkit.Median(direct)}, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// throughput returns the median MiB/s of the big object: read through, direct.
func (b *bench) throughput(ctx context.Context) ([2]float64, error) {
	var through, direct []float64
	for r := range b.cfg.rounds {
		var t, d float64
		var err error
		for i := range 2 {
			if (i+r)%2 == 0 {
				t, err = readAll(ctx, b.c, "big", "obj", b.cfg.size)
			} else {
				d, err = readAll(ctx, b.remote, remoteBucket, prefix+"/big/obj", b.cfg.size)
			}
			if err != nil {
				return [2]float64{}, err
			}
		}
		through, direct = append(through, t), append(direct, d)
		fmt.Printf("throughput round %d: read-through %.0f MiB/s, direct %.0f MiB/s\n", r+1, t, d)
	}
	return [2]float64{benchkit.Median(through), benchkit.Median(direct)}, nil
}

// putsWhileEvicting returns the median 4 KiB PUT ops/s: with an eviction
// running, without.
func (b *bench) putsWhileEvicting(ctx context.Context) ([2]float64, error) {
	var with, without []float64
	for r := range b.cfg.rounds {
		var w, wo float64
		for i := range 2 {
			if (i+r)%2 == 1 {
				ops, err := b.putSmall(ctx, "small", fmt.Sprintf("without%d", r), b.cfg.puts)
				if err != nil {
					return [2]float64{}, err
				}
				wo = ops
				continue
			}
			evicted := make(chan error, 1)
			start := time.Now()
			var took time.Duration
			go func() {
				res, err := b.admin.Evict(ctx, admin.CacheRequest{Bucket: fmt.Sprintf("evict%d", r)})
				took = time.Since(start)
				if err == nil && res.Evicted != int64(b.cfg.evictCount) {
					err = fmt.Errorf("evicted %d of %d", res.Evicted, b.cfg.evictCount)
				}
				evicted <- err
			}()
			ops, err := b.putSmall(ctx, "small", fmt.Sprintf("with%d", r), b.cfg.puts)
			if err != nil {
				return [2]float64{}, err
			}
			putsTook := time.Since(start)
			if err := <-evicted; err != nil {
				return [2]float64{}, fmt.Errorf("eviction: %w", err)
			}
			fmt.Printf("puts round %d: eviction of %d objects took %s, the PUTs %s\n", r+1, b.cfg.evictCount,
				took.Round(time.Millisecond), putsTook.Round(time.Millisecond))
			w = ops
		}
		with, without = append(with, w), append(without, wo)
		fmt.Printf("puts round %d: %.0f ops/s with eviction, %.0f without\n", r+1, w, wo)
	}
	return [2]float64{benchkit.Median(with), benchkit.Median(without)}, nil
}

// peakRSS restarts the daemon and returns its peak RSS (KiB) while every
// reader reads its own evicted object through at once.
func (b *bench) peakRSS(ctx context.Context) (int64, error) {
	if err := b.g.Stop(); err != nil {
		return 0, err
	}
	if err := b.start(ctx); err != nil {
		return 0, err
	}
	stop := benchkit.WatchPeakRSS(b.g.Pid())
	var wg sync.WaitGroup
	errs := make(chan error, b.cfg.readers)
	for i := range b.cfg.readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := readAll(ctx, b.c, "readers", readerKey(i), b.cfg.readerSize); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	peak := stop()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return peak, nil
}
