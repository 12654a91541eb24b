// Command s3bench compares the IPAS gateway with versitygw (posix backend) on the
// same disk, side by side in one run, with aws-sdk-go-v2 as the load generator:
//
//	go run ./bench/s3bench -dir /path/on/the/disk/to/test
//
// Each round runs, on each server in turn (the order alternates between rounds):
// 4 KiB PUTs from 16 writers for -duration; a 1 GiB object uploaded as multipart
// with 16 MiB parts, 4 in flight, then read back with 4 ranged GETs in flight
// (one PutObject and one GetObject when a server answers CreateMultipartUpload
// with NotImplemented on either server, for both); and a 4 GiB multipart upload during which the server's
// peak RSS (VmHWM, reset with clear_refs before the upload) is recorded. The
// table gives the median of the rounds.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
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
	// bigTimeout bounds one large transfer.
	bigTimeout = 10 * time.Minute
)

type config struct {
	dir, gatewayBin, versityBin string
	rounds                      int
	duration                    time.Duration
	smallSize, bigSize, rssSize int64
	partSize                    int64
	smallConc, partConc         int
}

// metric names one measured figure; the table prints them in this order.
type metric int

const (
	metricSmallOps metric = iota
	metricBigPut
	metricBigGet
	metricRSSPut
	metricPeakRSS
	metricCount
)

// figures holds, per metric, one value per round.
type figures [metricCount][]float64

// subject is a server under test and what it measured.
type subject struct {
	srv       *server
	client    *s3.Client
	multipart bool
	figs      figures
}

func main() {
	home, _ := os.UserHomeDir()
	var c config
	flag.StringVar(&c.dir, "dir", os.TempDir(), "`directory` on the disk to test; both servers keep their data under it")
	flag.StringVar(&c.gatewayBin, "gateway", "", "gateway `binary` (default: go build ./cmd/gateway)")
	flag.StringVar(&c.versityBin, "versitygw", filepath.Join(home, "go", "bin", "versitygw"), "versitygw `binary`")
	flag.IntVar(&c.rounds, "rounds", defaultRounds, "interleaved rounds; the table shows medians")
	flag.DurationVar(&c.duration, "duration", defaultDuration, "how long the small PUT load runs")
	flag.Int64Var(&c.smallSize, "small-size", defaultSmallSize, "small object size in bytes")
	flag.IntVar(&c.smallConc, "small-conc", defaultSmallConc, "concurrent small PUTs")
	flag.Int64Var(&c.bigSize, "big-size", defaultBigSize, "large object size in bytes")
	flag.Int64Var(&c.partSize, "part-size", defaultPartSize, "multipart part size in bytes")
	flag.IntVar(&c.partConc, "part-conc", defaultPartConc, "parts in flight")
	flag.Int64Var(&c.rssSize, "rss-size", defaultRSSSize, "size of the upload during which peak RSS is measured (0 skips it)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "s3bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.gatewayBin == "" {
		tmp, err := os.MkdirTemp("", "s3bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		c.gatewayBin = filepath.Join(tmp, "gateway")
		build := exec.CommandContext(ctx, "go", "build", "-o", c.gatewayBin, "github.com/ipas/ipas/cmd/gateway")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build gateway: %w\n%s", err, out)
		}
	}
	gw, err := startGateway(ctx, c.gatewayBin, c.dir)
	if err != nil {
		return err
	}
	defer gw.stop()
	vg, err := startVersity(ctx, c.versityBin, c.dir)
	if err != nil {
		return err
	}
	defer vg.stop()

	subjects := []*subject{{srv: gw}, {srv: vg}}
	for _, s := range subjects {
		s.client = newClient(s.srv.endpoint)
		if err := createBucket(ctx, s.client, "probe"); err != nil {
			return fmt.Errorf("%s: %w", s.srv.name, err)
		}
		if s.multipart, err = multipartLive(ctx, s.client, "probe"); err != nil {
			return fmt.Errorf("%s: %w", s.srv.name, err)
		}
	}
	// Both servers move large objects the same way: multipart only when both
	// implement it.
	if !subjects[0].multipart || !subjects[1].multipart {
		for _, s := range subjects {
			s.multipart = false
		}
	}
	for r := range c.rounds {
		order := subjects
		if r%2 == 1 {
			order = []*subject{subjects[1], subjects[0]}
		}
		for _, s := range order {
			fmt.Fprintf(os.Stderr, "round %d: %s\n", r+1, s.srv.name)
			if err := runRound(ctx, c, s, r); err != nil {
				return fmt.Errorf("round %d: %s: %w", r+1, s.srv.name, err)
			}
		}
	}
	printTable(c, subjects)
	return nil
}

// runRound measures every metric once on s.
func runRound(ctx context.Context, c config, s *subject, round int) error {
	bucket := fmt.Sprintf("round-%d", round)
	if err := createBucket(ctx, s.client, bucket); err != nil {
		return err
	}
	ops, err := smallPuts(ctx, s.client, bucket, c.smallSize, c.smallConc, c.duration)
	if err != nil {
		return err
	}
	s.figs[metricSmallOps] = append(s.figs[metricSmallOps], ops)

	bctx, cancel := context.WithTimeout(ctx, bigTimeout)
	defer cancel()
	put, err := bigPut(bctx, s.client, bucket, "big", c.bigSize, c.partSize, c.partConc, s.multipart)
	if err != nil {
		return err
	}
	get, err := bigGet(bctx, s.client, bucket, "big", c.bigSize, c.partSize, c.partConc, s.multipart)
	if err != nil {
		return err
	}
	if err := deleteObject(bctx, s.client, bucket, "big"); err != nil {
		return err
	}
	s.figs[metricBigPut] = append(s.figs[metricBigPut], put)
	s.figs[metricBigGet] = append(s.figs[metricBigGet], get)

	if c.rssSize == 0 {
		return nil
	}
	rctx, rcancel := context.WithTimeout(ctx, bigTimeout)
	defer rcancel()
	if err := s.srv.resetPeakRSS(); err != nil {
		return err
	}
	rssPut, err := bigPut(rctx, s.client, bucket, "huge", c.rssSize, c.partSize, c.partConc, s.multipart)
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
	return nil
}

func printTable(c config, subjects []*subject) {
	shape := func(s *subject) string {
		if s.multipart {
			return fmt.Sprintf("multipart, %s parts, %d in flight", size(c.partSize), c.partConc)
		}
		return "single PutObject/GetObject for both (multipart answers NotImplemented on one)"
	}
	fmt.Printf("s3bench: %d interleaved rounds, medians; %d CPUs shared by client and servers; data under %s\n",
		c.rounds, runtime.NumCPU(), c.dir)
	for _, s := range subjects {
		fmt.Printf("  %-13s %s  large objects: %s\n", s.srv.name, s.srv.endpoint, shape(s))
	}
	fmt.Println("  large bodies are sent as UNSIGNED-PAYLOAD without checksums; small ones signed")
	fmt.Println()
	labels := [metricCount]string{
		metricSmallOps: fmt.Sprintf("%s PUT, %d concurrent, %v (ops/s)", size(c.smallSize), c.smallConc, c.duration),
		metricBigPut:   fmt.Sprintf("%s PUT (MiB/s)", size(c.bigSize)),
		metricBigGet:   fmt.Sprintf("%s GET (MiB/s)", size(c.bigSize)),
		metricRSSPut:   fmt.Sprintf("%s PUT (MiB/s)", size(c.rssSize)),
		metricPeakRSS:  fmt.Sprintf("peak RSS during %s PUT (MiB)", size(c.rssSize)),
	}
	gw, vg := subjects[0], subjects[1]
	fmt.Printf("| %-42s | %12s | %12s | %8s | %-26s | %-26s |\n", "metric", gw.srv.name, vg.srv.name, "ratio", "ipas rounds", "versitygw rounds")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|\n", dashes(44), dashes(14), dashes(14), dashes(10), dashes(28), dashes(28))
	for m := range metricCount {
		if len(gw.figs[m]) == 0 {
			continue
		}
		a, b := median(gw.figs[m]), median(vg.figs[m])
		fmt.Printf("| %-42s | %12.1f | %12.1f | %8.2f | %-26s | %-26s |\n", labels[m], a, b, a/b, list(gw.figs[m]), list(vg.figs[m]))
	}
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
		parts[i] = fmt.Sprintf("%.0f", x)
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
