// Command restorebench compares `gateway restore` with `aws s3 sync` and
// `rclone copy --transfers 8`, side by side in one run, restoring the same
// objects from the same versitygw remote on loopback to the local disk:
//
//	go run ./bench/restorebench -dir /var/tmp
//	go run ./bench/restorebench -dir /var/tmp -rounds 0 -many 100000   # peak RSS over 100,000 objects
//
// The remote is populated the honest way: a real `gateway serve` (built once
// from ./cmd/gateway) takes the objects through its S3 API and replicates
// them to versitygw; its clean shutdown uploads the remote index. Two
// scenarios: -large-count objects of -large-size (one bucket), and -small
// objects of -small-min to -small-max bytes (another bucket, sizes and bytes
// from -seed). Each round restores each scenario with each client in turn
// (the order rotates between rounds) into a fresh directory, checks what
// arrived, and removes it. IPAS restores into a new data directory (blobs,
// journal, index; every object verified by SHA-256, fsynced); aws and rclone
// write plain files and fsync nothing, so the table also gives their rate
// with a sync(2) of the written files counted.
//
// -remote-rate and -remote-latency put the remote behind a toxiproxy proxy
// (benchkit.Proxy) that every client restores through alike, as from a
// remote across a network; populating goes straight to versitygw.
//
// -many N writes N small objects straight to versitygw under another prefix,
// with the metadata replication writes (replication.MetaFromObject) and a
// remote index uploaded by remoteindex.Snapshotter, then restores them once
// with `gateway restore` for its peak RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

const (
	defaultRounds     = 3
	defaultLargeCount = 4
	defaultLargeSize  = 256 << 20
	defaultSmall      = 10_000
	defaultSmallMin   = 1 << 10
	defaultSmallMax   = 64 << 10
	defaultSeed       = 1
	defaultRclone     = "rclone"
	// rcloneTransfers is the rclone setting the issue compares against.
	rcloneTransfers = 8
)

type config struct {
	dir, aws, rclone, gateway string
	baseline                  string
	rounds                    int
	largeCount                int
	largeSize                 int64
	small                     int
	smallMin, smallMax        int64
	many                      int
	seed                      uint64
	restoreArgs               string
	cpuProfile                string
	clients                   string
	keep                      bool
	remote                    *benchkit.Shape // -remote-rate, -remote-latency
}

func main() {
	var c config
	flag.StringVar(&c.dir, "dir", os.TempDir(), "`directory` for versitygw's data, the source archive and every restore")
	flag.StringVar(&c.aws, "aws", defaultAWS(), "aws CLI binary")
	flag.StringVar(&c.rclone, "rclone", defaultRclone, "rclone binary")
	flag.StringVar(&c.gateway, "gateway", "", "gateway `binary` (default: built from ./cmd/gateway)")
	flag.StringVar(&c.baseline, "baseline", "", "also restore with this older gateway `binary`, as \"ipas before\"")
	flag.IntVar(&c.rounds, "rounds", defaultRounds, "rounds per scenario and client; the table shows medians (0: populate and -many only)")
	flag.IntVar(&c.largeCount, "large-count", defaultLargeCount, "large objects (0: no large scenario)")
	flag.Int64Var(&c.largeSize, "large-size", defaultLargeSize, "bytes per large object")
	flag.IntVar(&c.small, "small", defaultSmall, "small objects (0: no small scenario)")
	flag.Int64Var(&c.smallMin, "small-min", defaultSmallMin, "smallest small object, bytes")
	flag.Int64Var(&c.smallMax, "small-max", defaultSmallMax, "largest small object, bytes")
	flag.IntVar(&c.many, "many", 0, "also restore this many small objects written straight to versitygw, for peak RSS (e.g. 100000)")
	flag.Uint64Var(&c.seed, "seed", defaultSeed, "seed of the small objects' sizes and of every object's bytes")
	flag.StringVar(&c.restoreArgs, "restore-args", "", "extra arguments for `gateway restore`, space separated; several sets separated by ; compare them (e.g. \";--objects 16\": defaults and 16 objects at once)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of each `gateway restore` to this `prefix` (IPAS_CPUPROFILE)")
	flag.StringVar(&c.clients, "clients", "ipas,aws,rclone", "clients to compare, comma separated")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	c.remote = benchkit.RemoteFlags(flag.CommandLine)
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "restorebench:", err)
		os.Exit(1)
	}
}

// defaultAWS prefers Debian's aws CLI v2, as the other benchmarks do.
func defaultAWS() string {
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws"
	}
	if p, err := exec.LookPath("aws"); err == nil {
		return p
	}
	return "aws"
}

func run(ctx context.Context, c config) error {
	work, err := os.MkdirTemp(c.dir, "restorebench-")
	if err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(work)
	}
	logf, err := os.Create(filepath.Join(work, "bench.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(os.Stderr, "work directory %s (daemon and client output in bench.log); load %s\n", work, loadAvg())

	if c.gateway == "" {
		if c.gateway, err = benchkit.BuildGateway(ctx, work); err != nil {
			return err
		}
	}
	vgw, err := benchkit.StartVersity(ctx, filepath.Join(work, "versitygw"), benchAccessKey, benchSecretKey, logf, remoteBucket)
	if err != nil {
		return err
	}
	defer vgw.Stop()
	endpoint, px, err := benchkit.RemoteEndpoint(vgw.Addr, *c.remote)
	if err != nil {
		return err
	}
	defer px.Stop()
	rem := remoteSetup{vgw: vgw, work: work, endpoint: endpoint}

	var scens []*scenario
	if c.largeCount > 0 {
		scens = append(scens, &scenario{name: fmt.Sprintf("%d x %s", c.largeCount, mib(c.largeSize)), bucket: largeBucket, prefix: mainPrefix})
	}
	if c.small > 0 {
		scens = append(scens, &scenario{name: fmt.Sprintf("%d x %s-%s", c.small, kib(c.smallMin), kib(c.smallMax)), bucket: smallBucket, prefix: mainPrefix})
	}
	if len(scens) > 0 && c.rounds > 0 {
		start := time.Now()
		if err := populateThroughIPAS(ctx, c, rem, scens, logf); err != nil {
			return fmt.Errorf("populate: %w", err)
		}
		fmt.Fprintf(os.Stderr, "populated through a replicating daemon in %s; load %s\n", time.Since(start).Round(time.Second), loadAvg())
	}
	clients, err := newClients(c, rem, work)
	if err != nil {
		return err
	}
	for round := range c.rounds {
		for _, sc := range scens {
			for k := range clients {
				cl := clients[(k+round)%len(clients)]
				m, err := restoreOnce(ctx, cl, sc, work, px, logf)
				if err != nil {
					return fmt.Errorf("round %d, %s, %s: %w", round+1, sc.name, cl.name, err)
				}
				sc.add(cl.name, m)
				fmt.Fprintf(os.Stderr, "round %d %-30s %-22s %s\n", round+1, sc.name, cl.name, m)
			}
		}
	}
	var many *measure
	if c.many > 0 {
		sc := &scenario{name: fmt.Sprintf("%d x %s-%s", c.many, kib(c.smallMin), kib(c.smallMax)), bucket: manyBucket, prefix: manyPrefix}
		start := time.Now()
		if err := populateDirect(ctx, c, rem, sc, logf); err != nil {
			return fmt.Errorf("populate %d objects: %w", c.many, err)
		}
		fmt.Fprintf(os.Stderr, "wrote %d objects straight to versitygw in %s; load %s\n", c.many, time.Since(start).Round(time.Second), loadAvg())
		m, err := restoreOnce(ctx, clients[0], sc, work, px, logf)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		fmt.Fprintf(os.Stderr, "%-30s %-22s %s\n", sc.name, clients[0].name, m)
		many = &m
		scens = append(scens, sc)
		sc.add(clients[0].name, m)
	}
	printTable(os.Stdout, c, scens, clients, many)
	return nil
}

// loadAvg is the 1, 5 and 15 minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
func kib(n int64) string { return fmt.Sprintf("%g KiB", float64(n)/(1<<10)) }
