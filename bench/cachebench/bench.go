package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
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
	remoteKey, remoteSecret = "cachebenchkey", "cachebench-secret-0123456789"
	remoteBucket, prefix    = "offsite", "pi1"
	gwKey, gwSecret         = "CACHEBENCHKEY", "cachebench-gateway-secret"
	replicatedTimeout       = 30 * time.Minute
)

type bench struct {
	cfg  config
	root string
	v    *benchkit.Versity
	// endpoint is where the daemons and the direct GETs reach the remote:
	// versitygw, or a proxy shaped by -remote-rate and -remote-latency.
	endpoint string
	px       *benchkit.Proxy // nil when the remote is not shaped
	log      io.Writer
	g        *benchkit.Gateway
	c        *s3.Client // the gateway
	remote   *s3.Client // versitygw itself, through the proxy when there is one
	warm     *s3.Client // versitygw itself, never through the proxy
	admin    *admin.Client
	before   *daemon // -baseline: the older build, holding the big object and the TTFB rounds' objects
}

// daemon is a `gateway serve` of the bench: its process and its clients.
type daemon struct {
	g     *benchkit.Gateway
	c     *s3.Client
	admin *admin.Client
}

// startDaemon runs bin on its own data directory under root/name,
// replicating to the bench's versitygw under prefix (extra: environment).
func (b *bench) startDaemon(ctx context.Context, bin, name, prefix string, extra ...string) (*daemon, error) {
	cfgPath := filepath.Join(b.root, name+".yaml")
	cfg := "remote: {path_style: true, prefix: " + prefix + ", index_interval: 0s}\nstore: {cache_on_read: never}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	env := append([]string{"IPAS_ACCESS_KEY=" + gwKey, "IPAS_SECRET_KEY=" + gwSecret,
		"IPAS_REMOTE_ENDPOINT=" + b.endpoint, "IPAS_REMOTE_BUCKET=" + remoteBucket, "IPAS_REMOTE_REGION=us-east-1",
		"IPAS_REMOTE_ACCESS_KEY=" + remoteKey, "IPAS_REMOTE_SECRET_KEY=" + remoteSecret,
		"IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0"}, extra...)
	g, err := benchkit.StartServe(ctx, bin, []string{"--config", cfgPath, "--data-dir", filepath.Join(b.root, name),
		"--s3-addr", "127.0.0.1:0"}, env, b.log)
	if err != nil {
		return nil, err
	}
	return &daemon{g: g, c: benchkit.NewS3Client(g.Endpoint, gwKey, gwSecret),
		admin: &admin.Client{Endpoint: g.Endpoint, Region: "us-east-1", AccessKey: gwKey, SecretKey: gwSecret}}, nil
}

func (b *bench) start(ctx context.Context) error {
	var extra []string
	if b.cfg.cpuProfile != "" {
		extra = append(extra, "IPAS_CPUPROFILE="+b.cfg.cpuProfile)
	}
	d, err := b.startDaemon(ctx, b.cfg.gateway, "data", prefix, extra...)
	if err != nil {
		return err
	}
	b.g, b.c, b.admin = d.g, d.c, d.admin
	b.remote = benchkit.NewS3Client(b.endpoint, remoteKey, remoteSecret)
	b.warm = benchkit.NewS3Client(b.v.Endpoint(), remoteKey, remoteSecret)
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
	if err := b.putBig(ctx, b.c); err != nil {
		return err
	}
	if b.before != nil {
		for _, bk := range []string{"big", "readers"} {
			if _, err := b.before.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bk)}); err != nil {
				return fmt.Errorf("create bucket %s before: %w", bk, err)
			}
		}
		if err := b.putBig(ctx, b.before.c); err != nil {
			return err
		}
	}
	buf := make([]byte, b.cfg.readerSize)
	io.ReadFull(benchkit.RandReader(2), buf)
	for i := range b.readerObjects() {
		binary.BigEndian.PutUint64(buf, uint64(i)) // each object its own bytes
		c := []*s3.Client{b.c}
		if b.before != nil && i >= b.cfg.readers {
			c = append(c, b.before.c) // the TTFB rounds' objects
		}
		for _, c := range c {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("readers"), Key: aws.String(readerKey(i)),
				Body: bytes.NewReader(buf)}); err != nil {
				return fmt.Errorf("put %s: %w", readerKey(i), err)
			}
		}
	}
	for r := range b.evictRounds() {
		if _, err := b.putSmall(ctx, fmt.Sprintf("evict%d", r), "e", b.cfg.evictCount); err != nil {
			return err
		}
	}
	if err := waitReplicated(ctx, b.admin); err != nil {
		return err
	}
	for _, bk := range []string{"big", "readers"} {
		if err := evictAll(ctx, b.admin, bk); err != nil {
			return err
		}
	}
	if b.before != nil {
		if err := waitReplicated(ctx, b.before.admin); err != nil {
			return err
		}
		for _, bk := range []string{"big", "readers"} {
			if err := evictAll(ctx, b.before.admin, bk); err != nil {
				return err
			}
		}
	}
	return nil
}

// readerObjects is how many objects of -reader-size the phases read:
// -readers at once for the RSS, one per round for the TTFB.
func (b *bench) readerObjects() int {
	n := 0
	if b.cfg.phases["rss"] {
		n = b.cfg.readers
	}
	if b.cfg.phases["ttfb"] {
		n = b.cfg.readers + b.cfg.rounds
	}
	return n
}

// evictRounds is how many buckets of small objects the PUT phase evicts.
func (b *bench) evictRounds() int {
	if b.cfg.phases["puts"] {
		return b.cfg.rounds
	}
	return 0
}

// putBig PUTs the -size object big/obj through c.
func (b *bench) putBig(ctx context.Context, c *s3.Client) error {
	big := filepath.Join(b.root, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		return err
	}
	defer os.Remove(big)
	defer f.Close()
	if _, err := io.CopyN(f, benchkit.RandReader(1), b.cfg.size); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("big"), Key: aws.String("obj"), Body: f}); err != nil {
		return fmt.Errorf("put the big object: %w", err)
	}
	return nil
}

// waitReplicated waits until the daemon has nothing left to replicate.
func waitReplicated(ctx context.Context, a *admin.Client) error {
	deadline := time.Now().Add(replicatedTimeout)
	for {
		st, err := a.Status(ctx)
		if err != nil {
			return err
		}
		if st.Offsite.PendingObjects == 0 && st.Journal.Jobs == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replication did not finish in %v", replicatedTimeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// evictAll evicts every object of bucket.
func evictAll(ctx context.Context, a *admin.Client, bucket string) error {
	r, err := a.Evict(ctx, admin.CacheRequest{Bucket: bucket})
	if err != nil {
		return fmt.Errorf("evict %s: %w", bucket, err)
	}
	if r.Evicted != r.Matched {
		return fmt.Errorf("evict %s: %d of %d evicted", bucket, r.Evicted, r.Matched)
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

// ttfb returns the median time to first byte in ms: read through, direct,
// and read through the -baseline build (0 without one), each round of an
// object none of whose blocks is in memory, the order rotating.
func (b *bench) ttfb(ctx context.Context) ([3]float64, error) {
	type way struct {
		name      string
		c         *s3.Client
		bucket    string
		remoteKey string // the object's remote copy, to warm
		through   bool   // a read-through, of bucket/key, not of the remote copy
		ms        []float64
	}
	ways := []*way{
		{name: "read-through", c: b.c, bucket: "readers", remoteKey: prefix + "/readers/", through: true},
		{name: "direct", c: b.remote, bucket: remoteBucket, remoteKey: prefix + "/readers/"},
	}
	if b.before != nil {
		ways = append(ways, &way{name: "read-through before", c: b.before.c, bucket: "readers", remoteKey: prefix + "-before/readers/", through: true})
	}
	for r := range b.cfg.rounds {
		key := readerKey(b.cfg.readers + r)
		line := fmt.Sprintf("ttfb round %d:", r+1)
		for i := range ways {
			w := ways[(i+r)%len(ways)]
			// Warm the remote's page cache for every way alike.
			if _, err := readAll(ctx, b.warm, remoteBucket, w.remoteKey+key, b.cfg.readerSize); err != nil {
				return [3]float64{}, err
			}
			k := key
			if !w.through {
				k = w.remoteKey + key
			}
			d, err := firstByte(ctx, w.c, w.bucket, k)
			if err != nil {
				return [3]float64{}, err
			}
			w.ms = append(w.ms, ms(d))
			line += fmt.Sprintf(" %s %.1f ms,", w.name, ms(d))
			time.Sleep(b.settle()) // an abandoned read-ahead or body ends: the next way finds the link idle
		}
		fmt.Println(strings.TrimSuffix(line, ","))
	}
	var out [3]float64
	for i, w := range ways {
		out[i] = benchkit.Median(w.ms)
	}
	return out, nil
}

// abandonedReadAhead is at most what an abandoned read-through still
// fetches (its window, about 9 MiB, and a little).
const abandonedReadAhead = 16 << 20

// settle is how long an abandoned read-ahead may take to end: it must not
// share a capped downlink with the next measure.
func (b *bench) settle() time.Duration {
	d := 300 * time.Millisecond
	if r := b.cfg.remote.DownRate; r > 0 {
		d = max(d, time.Duration(float64(abandonedReadAhead)/float64(r)*float64(time.Second)))
	}
	return d
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// readRate is how one way of reading the big object did: its rate, and
// the CPU seconds per GiB that versitygw, the daemon (none for a direct
// GET) and the client (this process) spent on it; medians of the rounds.
type readRate struct {
	name                   string
	mibs                   float64
	remote, daemon, client float64
	fetched                float64 // bytes from the remote through the proxy per byte read (0 without one)
}

// throughput reads the big object whole, each round each way in turn (the
// order rotating): read through, direct, and read through the -baseline
// build when there is one.
func (b *bench) throughput(ctx context.Context) ([]readRate, error) {
	type way struct {
		name   string
		c      *s3.Client
		bucket string
		key    string
		daemon int // pid, 0 for none
		rates  [4][]float64
		got    []float64 // fetched through the proxy per byte read
	}
	ways := []*way{
		{name: "read-through", c: b.c, bucket: "big", key: "obj", daemon: b.g.Pid()},
		{name: "direct", c: b.remote, bucket: remoteBucket, key: prefix + "/big/obj"},
	}
	if b.before != nil {
		ways = append(ways, &way{name: "read-through before", c: b.before.c, bucket: "big", key: "obj", daemon: b.before.g.Pid()})
	}
	gib := float64(b.cfg.size) / (1 << 30)
	for r := range b.cfg.rounds {
		line := fmt.Sprintf("throughput round %d:", r+1)
		for i := range ways {
			w := ways[(i+r)%len(ways)] // the order rotates
			pids := []string{strconv.Itoa(b.v.Pid()), strconv.Itoa(w.daemon), "self"}
			var before [3]time.Duration
			for j, pid := range pids {
				before[j], _ = benchkit.CPUTime(pid)
			}
			var received, conns int64
			if b.px != nil {
				received, conns = b.px.Received(), b.px.Connections()
			}
			v, err := readAll(ctx, w.c, w.bucket, w.key, b.cfg.size)
			if err != nil {
				return nil, err
			}
			w.rates[0] = append(w.rates[0], v)
			line += fmt.Sprintf(" %s %.1f MiB/s", w.name, v)
			if b.px != nil {
				got := float64(b.px.Received()-received) / float64(b.cfg.size)
				w.got = append(w.got, got)
				line += fmt.Sprintf(" fetched %.2fx in %d connections", got, b.px.Connections()-conns)
			}
			line += " (CPU s/GiB"
			for j, pid := range pids {
				var used float64
				if after, err := benchkit.CPUTime(pid); err == nil && (j != 1 || w.daemon != 0) {
					used = (after - before[j]).Seconds() / gib
				}
				w.rates[j+1] = append(w.rates[j+1], used)
				line += fmt.Sprintf(" %.2f", used)
			}
			line += "),"
		}
		fmt.Println(strings.TrimSuffix(line, ","))
	}
	var out []readRate
	for _, w := range ways {
		out = append(out, readRate{name: w.name, mibs: benchkit.Median(w.rates[0]),
			remote: benchkit.Median(w.rates[1]), daemon: benchkit.Median(w.rates[2]), client: benchkit.Median(w.rates[3]),
			fetched: benchkit.Median(w.got)})
	}
	return out, nil
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
