// Command cachebench measures the Pi as a cache in front of S3, side by side
// in one run against a versitygw remote on loopback:
//
//	go run ./bench/cachebench -dir /var/tmp
//
// A real `gateway serve` (built from ./cmd/gateway, store.cache_on_read:
// never) takes the objects through its S3 API, replicates them to
// versitygw, and evicts them (`gateway evict`, the evictor's own code), so
// that every GET below is a read-through. It prints:
//
//   - time to first byte of a whole GET: through the gateway (a different
//     evicted object each round, none of its blocks in memory) against the
//     SDK's GET of the remote copy itself;
//   - throughput of a -size object read through, against a direct SDK GET of
//     its remote copy, rounds alternating;
//   - 4 KiB PUT ops/s from -writers writers while an eviction of
//     -evict-count objects runs, against without, rounds alternating;
//   - the daemon's peak RSS (restarted first) while -readers clients read
//     -readers different evicted objects of -reader-size through at once.
//
// -remote-rate and -remote-latency put versitygw behind a toxiproxy proxy
// (benchkit.Proxy) that both the daemon and the direct GET go through, as
// they would reach a remote across a network.
//
// -baseline BIN adds an older gateway build, its own daemon replicating to
// the same versitygw, to the TTFB and throughput rounds ("read-through
// before");
// -phases picks the measures; -cpuprofile FILE profiles the daemon (the
// build under test) until it stops.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

type config struct {
	dir, gateway     string
	rounds           int
	size, readerSize int64
	readers, writers int
	puts, evictCount int
	baseline         string
	cpuProfile       string
	phases           map[string]bool
	remote           *benchkit.Shape // -remote-rate, -remote-latency
}

// allPhases are the measures, in the order they run.
var allPhases = []string{"ttfb", "throughput", "puts", "rss"}

func main() {
	var cfg config
	flag.StringVar(&cfg.dir, "dir", os.TempDir(), "where the data directories and the remote go")
	flag.StringVar(&cfg.gateway, "gateway", "", "a gateway binary (default: build ./cmd/gateway)")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of each comparison (medians are reported)")
	flag.Int64Var(&cfg.size, "size", 1<<30, "bytes of the object read through for throughput")
	flag.Int64Var(&cfg.readerSize, "reader-size", 64<<20, "bytes of each object of the concurrent read-throughs")
	flag.IntVar(&cfg.readers, "readers", 16, "concurrent read-throughs, each of its own object")
	flag.IntVar(&cfg.writers, "writers", 16, "concurrent 4 KiB PUT writers")
	flag.IntVar(&cfg.puts, "puts", 3000, "4 KiB PUTs per round")
	flag.IntVar(&cfg.evictCount, "evict-count", 3000, "objects each eviction round evicts")
	flag.StringVar(&cfg.baseline, "baseline", "", "also read through this older gateway `binary` in the TTFB and throughput rounds (\"read-through before\")")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the daemon under test to `file` (IPAS_CPUPROFILE)")
	cfg.remote = benchkit.RemoteFlags(flag.CommandLine)
	phases := flag.String("phases", strings.Join(allPhases, ","), "the measures to take, comma-separated")
	flag.Parse()
	cfg.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		if !slices.Contains(allPhases, p) {
			fmt.Fprintf(os.Stderr, "cachebench: -phases: %q is none of %s\n", p, strings.Join(allPhases, ", "))
			os.Exit(2)
		}
		cfg.phases[p] = true
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "cachebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	root, err := os.MkdirTemp(cfg.dir, "cachebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if cfg.gateway == "" {
		if cfg.gateway, err = benchkit.BuildGateway(ctx, root); err != nil {
			return err
		}
	}
	logf, err := os.Create(filepath.Join(root, "log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	v, err := benchkit.StartVersity(ctx, filepath.Join(root, "remote"), remoteKey, remoteSecret, logf, remoteBucket)
	if err != nil {
		return err
	}
	defer v.Stop()
	endpoint, px, err := benchkit.RemoteEndpoint(v.Addr, *cfg.remote)
	if err != nil {
		return err
	}
	defer px.Stop()
	b := &bench{cfg: cfg, root: root, v: v, endpoint: endpoint, px: px, log: logf}
	if err := b.start(ctx); err != nil {
		return err
	}
	defer func() { b.g.Stop() }()
	if cfg.baseline != "" {
		if b.before, err = b.startDaemon(ctx, cfg.baseline, "before", prefix+"-before"); err != nil {
			return err
		}
		defer b.before.g.Stop()
	}
	fmt.Printf("populating: one %d MiB object, %d of %d MiB, %d x %d small ones to evict; replicating, evicting\n",
		cfg.size>>20, b.readerObjects(), cfg.readerSize>>20, b.evictRounds(), cfg.evictCount)
	if err := b.populate(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	var ttfb [3]float64
	var tput []readRate
	var puts [2]float64
	var rss int64
	if cfg.phases["ttfb"] {
		if ttfb, err = b.ttfb(ctx); err != nil {
			return err
		}
	}
	if cfg.phases["throughput"] {
		if tput, err = b.throughput(ctx); err != nil {
			return err
		}
	}
	if cfg.phases["puts"] {
		if puts, err = b.putsWhileEvicting(ctx); err != nil {
			return err
		}
	}
	if cfg.phases["rss"] {
		if rss, err = b.peakRSS(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("\nmeasured in %s (medians of %d rounds), the remote %s\n\n", time.Since(t0).Round(time.Second), cfg.rounds, cfg.remote)
	fmt.Printf("| measure | read-through / with eviction | direct / without | ratio | target |\n|---|---|---|---|---|\n")
	if cfg.phases["ttfb"] {
		fmt.Printf("| time to first byte, whole GET | %.1f ms | %.1f ms (SDK GET of the remote copy) | +%.1f ms | at most +20 ms |\n",
			ttfb[0], ttfb[1], ttfb[0]-ttfb[1])
		if b.before != nil {
			fmt.Printf("| time to first byte, whole GET, -baseline build | %.1f ms | %.1f ms | +%.1f ms | (now %+.1f ms against before) |\n",
				ttfb[2], ttfb[1], ttfb[2]-ttfb[1], ttfb[0]-ttfb[2])
		}
	}
	if cfg.phases["throughput"] {
		through, direct := tput[0], tput[1]
		fmt.Printf("| %d MiB GET throughput | %.1f MiB/s | %.1f MiB/s (SDK GET of the remote copy) | %.2fx | >= 0.90x |\n",
			cfg.size>>20, through.mibs, direct.mibs, through.mibs/direct.mibs)
		if len(tput) > 2 {
			before := tput[2]
			fmt.Printf("| %d MiB GET throughput, -baseline build | %.0f MiB/s | %.0f MiB/s | %.2fx | (now %.2fx of before) |\n",
				cfg.size>>20, before.mibs, direct.mibs, before.mibs/direct.mibs, through.mibs/before.mibs)
		}
	}
	if cfg.phases["puts"] {
		fmt.Printf("| 4 KiB PUT ops/s, %d writers | %.0f (eviction of %d objects running) | %.0f | %.2fx | >= 0.90x |\n",
			cfg.writers, puts[0], cfg.evictCount, puts[1], puts[0]/puts[1])
	}
	if cfg.phases["rss"] {
		fmt.Printf("| peak RSS, %d concurrent read-throughs of %d MiB | %.1f MiB | | | < 64 MiB |\n",
			cfg.readers, cfg.readerSize>>20, float64(rss)/1024)
	}
	if cfg.phases["throughput"] {
		fmt.Printf("\nCPU seconds per GiB read (medians): what bounds the rate when all of it shares %d cores\n\n", runtime.NumCPU())
		if cfg.remote.Shaped() {
			fmt.Printf("(the client column includes the proxy, which runs in this process)\n\n")
		}
		fmt.Printf("| way | MiB/s | versitygw | daemon | client | sum | sum / cores: at best |\n|---|---|---|---|---|---|---|\n")
		for _, r := range tput {
			sum := r.remote + r.daemon + r.client
			fmt.Printf("| %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.0f MiB/s |\n", r.name, r.mibs, r.remote, r.daemon, r.client,
				sum, 1024*float64(runtime.NumCPU())/sum)
		}
		if px != nil {
			fmt.Printf("\nBytes through the proxy from the remote per byte of the object read (medians):")
			for _, r := range tput {
				fmt.Printf(" %s %.2fx", r.name, r.fetched)
			}
			fmt.Println()
		}
	}
	return nil
}
