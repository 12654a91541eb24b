// Command s3bench compares the IPAS gateway with versitygw (posix backend) and
// MinIO (single drive) on the same disk, side by side in one run, with
// aws-sdk-go-v2 as the load generator:
//
//	go run ./bench/s3bench -dir /path/on/the/disk/to/test
//
// MinIO is measured when its binary is installed (go install
// github.com/minio/minio@latest, a long build; -minio names another path) and
// left out with a note otherwise.
//
// Each round runs, on each server in turn (the order alternates between rounds):
// 4 KiB PUTs from 16 writers for -duration, then as long GETs of them; a 1 GiB object uploaded by the SDK's
// transfer manager as multipart with 16 MiB parts, 4 in flight, then read back by
// its downloader (ranged GETs of 16 MiB, 4 in flight) and by one GetObject; with
// -content-md5, the same object uploaded again as rclone and s3cmd do, with a
// Content-MD5 on every part; with
// -keys N, N empty objects put, listed with ListObjectsV2 and deleted with
// DeleteObjects of 1,000 keys; and a 4 GiB multipart upload during which the
// server's peak RSS (VmHWM, reset with clear_refs before the upload) is recorded.
// When a server answers CreateMultipartUpload with NotImplemented, every server
// gets single PutObject/GetObject instead. The table gives the median of the
// rounds, and the ratio of IPAS's median to each other server's.
//
// Each figure comes with the server's CPU time (user + system, /proc/PID/stat),
// and the peak RSS with its anonymous and file-backed parts. The gateway runs with
// replication paused unless -replicate is given. -baseline BIN adds an older
// gateway build to the same run. -inprocess runs the IPAS gateway inside this
// process instead of building and starting cmd/gateway, so that -cpuprofile sees
// its stacks (its RSS is then the client's too); -servers ipas measures one
// server alone.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

const (
	defaultRounds    = 3
	defaultDuration  = 10 * time.Second
	defaultSmallSize = 4 << 10
	defaultSmallConc = 16
	defaultBigSize   = 1 << 30
	defaultPartSize  = 16 << 20
	defaultPartConc  = 4
	defaultRSSSize   = 4 << 30
	defaultServers   = "ipas,versitygw,minio"
	// bigTimeout bounds one large transfer.
	bigTimeout = 10 * time.Minute
)

type config struct {
	dir, gatewayBin, versityBin string
	minioBin                    string
	servers                     string
	inProcess, replicate        bool
	cpuProfile, memProfile      string
	baselineBin                 string
	gatewayLog                  string
	rounds                      int
	duration                    time.Duration
	smallSize, bigSize, rssSize int64
	partSize                    int64
	smallConc, partConc         int
	keys                        int
	contentMD5                  bool
	// versioning adds "ipas versioned", the same gateway with its round
	// buckets versioned; versions is the size of the ListObjectVersions
	// listing (versions.go).
	versioning bool
	versions   int
}

// metric names one measured figure; the table prints them in this order.
type metric int

const (
	metricSmallOps metric = iota
	metricSmallCPU
	metricSmallGet
	metricSmallGetCPU
	metricBigPut
	metricBigPutCPU
	metricMD5Put
	metricMD5PutCPU
	metricBigGetRanged
	metricBigGetCPU
	metricBigGetSingle
	metricRSSPut
	metricPeakRSS
	metricPeakAnon
	metricPeakFile
	metricKeysPut
	metricListKeys
	metricListCPU
	metricDeleteKeys
	metricDeleteCPU
	metricOverwriteOps
	metricOverwriteCPU
	metricVersionsPut
	metricListVersions
	metricListVersionsCPU
	metricCount
)

// figures holds, per metric, one value per round.
type figures [metricCount][]float64

// subject is a server under test and what it measured.
type subject struct {
	srv       *server
	client    *s3.Client
	multipart bool
	// versioned subjects version their round buckets (-versioning).
	versioned bool
	figs      figures
}

func main() {
	home, _ := os.UserHomeDir()
	var c config
	flag.StringVar(&c.dir, "dir", os.TempDir(), "`directory` on the disk to test; both servers keep their data under it")
	flag.StringVar(&c.gatewayBin, "gateway", "", "gateway `binary` (default: go build ./cmd/gateway)")
	flag.StringVar(&c.versityBin, "versitygw", filepath.Join(home, "go", "bin", "versitygw"), "versitygw `binary`")
	flag.StringVar(&c.minioBin, "minio", filepath.Join(home, "go", "bin", "minio"), "minio `binary` (skipped, with a note, when it is not installed)")
	flag.StringVar(&c.servers, "servers", defaultServers, "comma-separated `list` of servers to measure: ipas, versitygw, minio")
	flag.StringVar(&c.baselineBin, "baseline", "", "also measure this gateway `binary` (an older build), as \"ipas before\"")
	flag.BoolVar(&c.inProcess, "inprocess", false, "run the IPAS gateway inside this process (for -cpuprofile)")
	flag.BoolVar(&c.replicate, "replicate", false, "let the gateway replicate to its embedded local remote during the run (paused by default)")
	flag.StringVar(&c.gatewayLog, "gateway-log", "", "write everything the gateway logs (and the Go runtime prints, e.g. with GODEBUG=gctrace=1) to `file`")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to `file` (use with -inprocess)")
	flag.StringVar(&c.memProfile, "memprofile", "", "write an allocation profile of this process to `file` at the end (use with -inprocess)")
	flag.IntVar(&c.rounds, "rounds", defaultRounds, "interleaved rounds; the table shows medians")
	flag.DurationVar(&c.duration, "duration", defaultDuration, "how long the small PUT load runs (0 skips it)")
	flag.Int64Var(&c.smallSize, "small-size", defaultSmallSize, "small object size in bytes")
	flag.IntVar(&c.smallConc, "small-conc", defaultSmallConc, "concurrent small PUTs")
	flag.Int64Var(&c.bigSize, "big-size", defaultBigSize, "large object size in bytes (0 skips it)")
	flag.Int64Var(&c.partSize, "part-size", defaultPartSize, "multipart part size and ranged GET size in bytes")
	flag.IntVar(&c.partConc, "part-conc", defaultPartConc, "parts (or ranges) in flight")
	flag.Int64Var(&c.rssSize, "rss-size", defaultRSSSize, "size of the upload during which peak RSS is measured (0 skips it)")
	flag.BoolVar(&c.contentMD5, "content-md5", false, "also upload the large object as rclone and s3cmd do: multipart with a Content-MD5 on every part")
	flag.BoolVar(&c.versioning, "versioning", false, "also measure the IPAS gateway with its round buckets versioned (\"ipas versioned\"), and 4 KiB overwrites")
	flag.IntVar(&c.versions, "versions", 0, "also put this many versions (half as many keys, two versions each) in a versioned bucket and list them all with ListObjectVersions (versitygw runs with --versioning-dir)")
	flag.IntVar(&c.keys, "keys", 0, "also put this many empty objects, list them all (ListObjectsV2) and delete them all (DeleteObjects of 1,000 keys)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "s3bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	var subjects []*subject
	for _, name := range strings.Split(c.servers, ",") {
		var srv *server
		var err error
		switch strings.TrimSpace(name) {
		case "ipas":
			srv, err = startIPAS(ctx, &c)
		case "versitygw":
			if c.baselineBin != "" {
				if srv, err = startGateway(ctx, c.baselineBin, c.dir, c.replicate, ""); err != nil {
					return err
				}
				srv.name = "ipas before"
				defer srv.stop()
				subjects = append(subjects, &subject{srv: srv})
			}
			srv, err = startVersity(ctx, c.versityBin, c.dir, c.versions > 0)
		case "minio":
			if _, statErr := os.Stat(c.minioBin); statErr != nil {
				fmt.Fprintf(os.Stderr, "s3bench: minio left out: %v (go install github.com/minio/minio@latest, or -minio BIN)\n", statErr)
				continue
			}
			srv, err = startMinIO(ctx, c.minioBin, c.dir)
		default:
			return fmt.Errorf("-servers: unknown server %q; use ipas, versitygw and/or minio", name)
		}
		if err != nil {
			return err
		}
		defer srv.stop()
		subjects = append(subjects, &subject{srv: srv})
		if c.versioning && strings.TrimSpace(name) == "ipas" {
			subjects = append(subjects, &subject{srv: srv, versioned: true})
		}
	}
	multipart := true
	for _, s := range subjects {
		s.client = newClient(s.srv.endpoint)
		if s.versioned {
			continue // its server was probed
		}
		if err := createBucket(ctx, s.client, "probe"); err != nil {
			return fmt.Errorf("%s: %w", s.srv.name, err)
		}
		live, err := multipartLive(ctx, s.client, "probe")
		if err != nil {
			return fmt.Errorf("%s: %w", s.srv.name, err)
		}
		multipart = multipart && live
	}
	// Both servers move large objects the same way: multipart only when both
	// implement it.
	for _, s := range subjects {
		s.multipart = multipart
	}
	if c.cpuProfile != "" {
		stopProfile, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	for r := range c.rounds {
		order := slices.Clone(subjects)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			fmt.Fprintf(os.Stderr, "round %d: %s\n", r+1, s.name())
			if err := runRound(ctx, c, s, r); err != nil {
				return fmt.Errorf("round %d: %s: %w", r+1, s.name(), err)
			}
		}
	}
	printTable(c, subjects)
	if c.memProfile != "" {
		return writeHeapProfile(c.memProfile)
	}
	return nil
}

// startIPAS starts the gateway: in process, or built from ./cmd/gateway (unless
// -gateway names a binary) and run as a child.
func startIPAS(ctx context.Context, c *config) (*server, error) {
	if c.inProcess {
		return startInProcess(ctx, c.dir)
	}
	if c.gatewayBin == "" {
		tmp, err := os.MkdirTemp("", "s3bench-")
		if err != nil {
			return nil, err
		}
		// The binary stays open while it runs; its directory goes once it has started.
		defer os.RemoveAll(tmp)
		bin, err := benchkit.BuildGateway(ctx, tmp)
		if err != nil {
			return nil, err
		}
		return startGateway(ctx, bin, c.dir, c.replicate, c.gatewayLog)
	}
	return startGateway(ctx, c.gatewayBin, c.dir, c.replicate, c.gatewayLog)
}

// runRound measures every metric once on s.
func runRound(ctx context.Context, c config, s *subject, round int) error {
	bucket := fmt.Sprintf("round-%d", round)
	if s.versioned {
		bucket += "-versioned"
	}
	if err := createBucket(ctx, s.client, bucket); err != nil {
		return err
	}
	if s.versioned {
		if err := enableVersioning(ctx, s.client, bucket); err != nil {
			return err
		}
	}
	if c.duration > 0 {
		cpu := s.srv.cpuMeter()
		ops, n, err := smallPuts(ctx, s.client, bucket, c.smallSize, c.smallConc, c.duration)
		if err != nil {
			return err
		}
		s.figs[metricSmallOps] = append(s.figs[metricSmallOps], ops)
		s.figs[metricSmallCPU] = append(s.figs[metricSmallCPU], cpu().Seconds()*1000/(ops*c.duration.Seconds()))
		if n > 0 {
			cpu := s.srv.cpuMeter()
			ops, err := smallGets(ctx, s.client, bucket, c.smallSize, c.smallConc, n, c.duration)
			if err != nil {
				return err
			}
			s.figs[metricSmallGet] = append(s.figs[metricSmallGet], ops)
			s.figs[metricSmallGetCPU] = append(s.figs[metricSmallGetCPU], cpu().Seconds()*1000/(ops*c.duration.Seconds()))
		}
	}

	if c.bigSize > 0 {
		bctx, cancel := context.WithTimeout(ctx, bigTimeout)
		defer cancel()
		gib := float64(c.bigSize) / (1 << 30)
		cpu := s.srv.cpuMeter()
		put, err := bigPut(bctx, s.client, bucket, "big", c.bigSize, c.partSize, c.partConc, s.multipart)
		if err != nil {
			return err
		}
		s.figs[metricBigPut] = append(s.figs[metricBigPut], put)
		s.figs[metricBigPutCPU] = append(s.figs[metricBigPutCPU], cpu().Seconds()/gib)
		if c.contentMD5 && s.multipart {
			cpu := s.srv.cpuMeter()
			put, err := bigPutMD5(bctx, s.client, bucket, "big-md5", c.bigSize, c.partSize, c.partConc)
			if err != nil {
				return err
			}
			s.figs[metricMD5Put] = append(s.figs[metricMD5Put], put)
			s.figs[metricMD5PutCPU] = append(s.figs[metricMD5PutCPU], cpu().Seconds()/gib)
			if err := deleteObject(bctx, s.client, bucket, "big-md5"); err != nil {
				return err
			}
		}
		if s.multipart {
			cpu := s.srv.cpuMeter()
			get, err := bigGet(bctx, s.client, bucket, "big", c.bigSize, c.partSize, c.partConc, true)
			if err != nil {
				return err
			}
			s.figs[metricBigGetRanged] = append(s.figs[metricBigGetRanged], get)
			s.figs[metricBigGetCPU] = append(s.figs[metricBigGetCPU], cpu().Seconds()/gib)
		}
		get, err := bigGet(bctx, s.client, bucket, "big", c.bigSize, c.partSize, c.partConc, false)
		if err != nil {
			return err
		}
		s.figs[metricBigGetSingle] = append(s.figs[metricBigGetSingle], get)
		if err := deleteObject(bctx, s.client, bucket, "big"); err != nil {
			return err
		}
	}

	if c.versioning && c.duration > 0 {
		cpu := s.srv.cpuMeter()
		ops, err := overwrites(ctx, s.client, bucket, c.smallSize, c.smallConc, c.duration)
		if err != nil {
			return err
		}
		s.figs[metricOverwriteOps] = append(s.figs[metricOverwriteOps], ops)
		s.figs[metricOverwriteCPU] = append(s.figs[metricOverwriteCPU], cpu().Seconds()*1000/(ops*c.duration.Seconds()))
	}
	if c.keys > 0 {
		if err := keyRound(ctx, c, s, bucket); err != nil {
			return err
		}
	}
	if c.versions > 0 && !s.versioned {
		if err := versionsRound(ctx, c, s, round); err != nil {
			return err
		}
	}
	if c.rssSize == 0 {
		return nil
	}
	rctx, rcancel := context.WithTimeout(ctx, bigTimeout)
	defer rcancel()
	if err := s.srv.resetPeakRSS(); err != nil {
		return err
	}
	stopSampling := s.srv.sampleRSS()
	rssPut, err := bigPut(rctx, s.client, bucket, "huge", c.rssSize, c.partSize, c.partConc, s.multipart)
	anon, file := stopSampling()
	if err != nil {
		return err
	}
	peak, err := s.srv.peakRSS()
	if err != nil {
		return err
	}
	if err := deleteObject(rctx, s.client, bucket, "huge"); err != nil {
		return err
	}
	s.figs[metricRSSPut] = append(s.figs[metricRSSPut], rssPut)
	s.figs[metricPeakRSS] = append(s.figs[metricPeakRSS], float64(peak)/(1<<20))
	s.figs[metricPeakAnon] = append(s.figs[metricPeakAnon], float64(anon)/(1<<20))
	s.figs[metricPeakFile] = append(s.figs[metricPeakFile], float64(file)/(1<<20))
	return nil
}

func printTable(c config, subjects []*subject) {
	fmt.Printf("s3bench: %d interleaved rounds, medians; %d CPUs shared by client and servers; data under %s\n",
		c.rounds, runtime.NumCPU(), c.dir)
	for _, s := range subjects {
		fmt.Printf("  %-15s %s\n", s.name(), s.srv.endpoint)
	}
	if c.versioning {
		fmt.Println("  ipas versioned: the same gateway, its round buckets versioned (Enabled); overwrites: 4 KiB PUTs")
		fmt.Println("  to 64 keys per writer, round and round (each one makes a noncurrent version where versioned)")
	}
	switch {
	case c.inProcess:
		fmt.Println("  the IPAS gateway ran in the client's process (no replication): its peak RSS includes the client")
	case c.replicate:
		fmt.Println("  the IPAS gateway replicated every object to its embedded local remote (same disk) during the run")
	default:
		fmt.Println("  the IPAS gateway ran with replication paused (replication.paused: true)")
	}
	shape := fmt.Sprintf("multipart (transfer manager), %s parts, %d in flight; ranged GET: %s ranges, %d in flight",
		size(c.partSize), c.partConc, size(c.partSize), c.partConc)
	if len(subjects) > 0 && !subjects[0].multipart {
		shape = "single PutObject/GetObject for both (multipart answers NotImplemented on one)"
	}
	fmt.Println("  large objects:", shape)
	fmt.Println("  requests as aws-sdk-go-v2 sends them over plain HTTP by default: signed payload SHA-256;")
	fmt.Println("  the transfer manager adds a CRC32 header to every part; small objects have unique content")
	fmt.Println()
	labels := [metricCount]string{
		metricSmallOps:        fmt.Sprintf("%s PUT, %d concurrent, %v (ops/s)", size(c.smallSize), c.smallConc, c.duration),
		metricSmallCPU:        "  server CPU per PUT (ms)",
		metricSmallGet:        fmt.Sprintf("%s GET, %d concurrent, %v (ops/s)", size(c.smallSize), c.smallConc, c.duration),
		metricSmallGetCPU:     "  server CPU per GET (ms)",
		metricBigPut:          fmt.Sprintf("%s PUT (MiB/s)", size(c.bigSize)),
		metricBigPutCPU:       "  server CPU per GiB (s)",
		metricBigGetCPU:       "  server CPU per GiB (s)",
		metricMD5Put:          fmt.Sprintf("%s PUT, Content-MD5 on every part (MiB/s)", size(c.bigSize)),
		metricMD5PutCPU:       "  server CPU per GiB (s)",
		metricBigGetRanged:    fmt.Sprintf("%s GET, ranged x%d (MiB/s)", size(c.bigSize), c.partConc),
		metricBigGetSingle:    fmt.Sprintf("%s GET, one stream (MiB/s)", size(c.bigSize)),
		metricRSSPut:          fmt.Sprintf("%s PUT (MiB/s)", size(c.rssSize)),
		metricPeakRSS:         fmt.Sprintf("peak RSS during %s PUT (MiB)", size(c.rssSize)),
		metricPeakAnon:        "  its anonymous part, peak (MiB)",
		metricPeakFile:        "  its file-backed part, peak (MiB)",
		metricKeysPut:         fmt.Sprintf("%d empty PUTs, %d concurrent (ops/s)", c.keys, c.smallConc),
		metricListKeys:        fmt.Sprintf("ListObjectsV2 of %d keys (keys/s)", c.keys),
		metricListCPU:         "  server CPU per 1,000 keys (ms)",
		metricDeleteKeys:      fmt.Sprintf("DeleteObjects of %d keys, 1,000 a call (keys/s)", c.keys),
		metricDeleteCPU:       "  server CPU per 1,000 keys (ms)",
		metricOverwriteOps:    fmt.Sprintf("%s overwrites, %d concurrent, %v (ops/s)", size(c.smallSize), c.smallConc, c.duration),
		metricOverwriteCPU:    "  server CPU per PUT (ms)",
		metricVersionsPut:     fmt.Sprintf("%d empty versions PUT, versioned (ops/s)", c.versions),
		metricListVersions:    fmt.Sprintf("ListObjectVersions of %d versions (pages/s)", c.versions),
		metricListVersionsCPU: "  server CPU per page of 1,000 (ms)",
	}
	// One ratio column per other server: the first listed (ipas) against it.
	ratios := len(subjects) - 1
	first := subjects[0]
	fmt.Printf("| %-50s |", "metric")
	for _, s := range subjects {
		fmt.Printf(" %12s |", s.name())
	}
	for _, s := range subjects[1:] {
		fmt.Printf(" %12s |", ratioName(first, s))
	}
	for _, s := range subjects {
		fmt.Printf(" %-28s |", s.name()+" rounds")
	}
	fmt.Printf("\n|%s|", dashes(52))
	for range len(subjects) + ratios {
		fmt.Printf("%s|", dashes(14))
	}
	for range subjects {
		fmt.Printf("%s|", dashes(30))
	}
	fmt.Println()
	for m := range metricCount {
		if len(subjects[0].figs[m]) == 0 {
			continue
		}
		fmt.Printf("| %-50s |", labels[m])
		for _, s := range subjects {
			if len(s.figs[m]) == 0 {
				fmt.Printf(" %12s |", "")
				continue
			}
			fmt.Printf(" %12.2f |", median(s.figs[m]))
		}
		for _, s := range subjects[1:] {
			if len(s.figs[m]) == 0 {
				fmt.Printf(" %12s |", "")
				continue
			}
			fmt.Printf(" %12.2f |", median(first.figs[m])/median(s.figs[m]))
		}
		for _, s := range subjects {
			fmt.Printf(" %-28s |", list(s.figs[m]))
		}
		fmt.Println()
	}
}

// ratioName heads the column of a's medians divided by b's.
func ratioName(a, b *subject) string {
	short := func(s *subject) string {
		if s.versioned {
			return "vers"
		}
		f := strings.Fields(strings.TrimSuffix(s.srv.name, " gateway"))
		return strings.TrimSuffix(f[len(f)-1], "gw")
	}
	return short(a) + "/" + short(b)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func list(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		if x < 10 {
			parts[i] = fmt.Sprintf("%.1f", x)
		} else {
			parts[i] = fmt.Sprintf("%.0f", x)
		}
	}
	return strings.Join(parts, " ")
}

func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func dashes(n int) string { return strings.Repeat("-", n) }
