// Command smallreplbench compares how fast IPAS replicates many small files
// with how fast `rclone copy` and `aws s3 sync` upload the same files, side
// by side in one run, to the same versitygw on loopback, with no bandwidth
// limit:
//
//	go run ./bench/smallreplbench -dir /var/tmp [-files 10000] [-baseline OLD-GATEWAY] [-latency 20ms]
//
// With -latency, every client reaches versitygw through a toxiproxy proxy
// that holds each answer back by that long, as a remote across the internet
// would; then the requests in flight, not the CPU, set the pace.
//
// The files (1-64 KiB of incompressible bytes each, -files of them in 100
// directories) are written once. Each round runs every client once, in an
// order that rotates from round to round, each under its own remote prefix:
//
//   - ipas: a `gateway serve` with replication paused takes the files through
//     its S3 API (not timed); then replication is resumed and timed until the
//     daemon's status says nothing is pending. The daemon's CPU (utime+stime
//     from /proc) over that stretch, divided by the files, is its CPU per
//     replicated object. With -baseline, an older gateway binary runs the same
//     way as "ipas before".
//   - rclone copy --transfers 8 and aws s3 sync: the command is timed from its
//     start to its exit; its CPU is the process's (children included).
//
// Every run is checked by listing its prefix: every key there with its size,
// and, for -verify files of each run, the SHA-256 of the remote copy.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

const (
	defaultFiles     = 10000
	defaultRounds    = 3
	defaultTransfers = 8
	defaultVerify    = 200
	defaultAWS       = "/usr/bin/aws"
	defaultRclone    = "rclone"
	// remoteBucket is the versitygw bucket every client uploads to.
	remoteBucket = "bench"
	// benchAccessKey and benchSecretKey are versitygw's root credentials.
	benchAccessKey = "smallreplbench"
	benchSecretKey = "smallreplbench-secret-0123456789"
	// ipasAccessKey and ipasSecretKey are the gateway's S3 credential.
	ipasAccessKey = "SMALLREPLBENCHKEY"
	ipasSecretKey = "smallreplbench-gateway-secret"
	benchRegion   = "us-east-1"
	// runTimeout bounds one client's upload (or one daemon's drain).
	runTimeout = 30 * time.Minute
)

type config struct {
	dir, aws, rclone, gateway, baseline string
	files, rounds, transfers, verify    int
	smallObjects, clients               string
	latency                             time.Duration
	keep                                bool
}

func main() {
	var c config
	flag.StringVar(&c.dir, "dir", os.TempDir(), "`directory` for the files, the archives and versitygw's data")
	flag.IntVar(&c.files, "files", defaultFiles, "files of 1-64 KiB")
	flag.IntVar(&c.rounds, "rounds", defaultRounds, "runs of every client")
	flag.IntVar(&c.transfers, "transfers", defaultTransfers, "rclone's --transfers")
	flag.IntVar(&c.verify, "verify", defaultVerify, "files of each run whose remote copy is hashed (all are listed)")
	flag.StringVar(&c.gateway, "gateway", "", "gateway `binary` (default: built from this tree)")
	flag.StringVar(&c.baseline, "baseline", "", "also replicate with this older gateway `binary`, as \"ipas before\"")
	flag.StringVar(&c.smallObjects, "small-objects", "", "comma-separated replication.small_objects values: one \"ipas\" run each (default: the default)")
	flag.StringVar(&c.clients, "clients", "ipas,before,rclone,aws", "clients to run, comma-separated")
	flag.StringVar(&c.aws, "aws", defaultAWS, "aws CLI binary")
	flag.StringVar(&c.rclone, "rclone", defaultRclone, "rclone binary")
	flag.DurationVar(&c.latency, "latency", 0, "round trip added to every request by a toxiproxy proxy in front of versitygw (0: none)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "smallreplbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	work, err := os.MkdirTemp(c.dir, "smallreplbench-")
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
	fmt.Fprintf(os.Stderr, "work directory %s (daemon and client output in bench.log)\n", work)
	if c.gateway == "" {
		if c.gateway, err = benchkit.BuildGateway(ctx, work); err != nil {
			return err
		}
	}
	set, err := writeFiles(filepath.Join(work, "files"), c.files)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d files, %.1f MiB\n", len(set.files), float64(set.bytes)/(1<<20))
	vgw, err := benchkit.StartVersity(ctx, filepath.Join(work, "versitygw"), benchAccessKey, benchSecretKey, logf, remoteBucket)
	if err != nil {
		return err
	}
	defer vgw.Stop()
	endpoint, px, err := benchkit.RemoteEndpoint(vgw.Addr, benchkit.Shape{Latency: c.latency})
	if err != nil {
		return err
	}
	defer px.Stop()
	clients, err := newClients(c, endpoint, work, logf)
	if err != nil {
		return err
	}
	results := map[string][]measure{}
	for round := range c.rounds {
		for k := range clients {
			cl := clients[(k+round)%len(clients)]
			prefix := fmt.Sprintf("r%d-%s", round, cl.slug)
			server0, err := processCPU(vgw.Pid())
			if err != nil {
				return err
			}
			m, err := cl.run(ctx, set, prefix)
			if server1, perr := processCPU(vgw.Pid()); err == nil {
				m.server, err = server1-server0, perr
			}
			if err == nil {
				err = checkRemote(ctx, vgw, set, prefix+"/"+cl.under, c.verify)
			}
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", cl.name, round+1, err)
			}
			m.load = loadAvg()
			results[cl.name] = append(results[cl.name], m)
			fmt.Fprintf(os.Stderr, "round %d %-28s %7.1f files/s  %6.3f ms CPU/file, versitygw %6.3f ms  (%s, load %s)\n",
				round+1, cl.name, m.rate(len(set.files)), m.cpuPerFile(len(set.files)), m.serverPerFile(len(set.files)),
				m.elapsed.Round(time.Millisecond), m.load)
		}
	}
	printTable(os.Stdout, clients, results, set, c.latency)
	return nil
}

// loadAvg is the 1-minute load average, for the record.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// printTable prints one row per client: files/s and CPU per file of each
// round, and their medians.
func printTable(w io.Writer, clients []*client, results map[string][]measure, set *fileSet, latency time.Duration) {
	n := len(set.files)
	rtt := ""
	if latency > 0 {
		rtt = fmt.Sprintf(", %s added to each round trip", latency)
	}
	fmt.Fprintf(w, "\n%d files of 1-64 KiB (%.1f MiB) to versitygw on loopback, no bandwidth limit%s\n\n", n, float64(set.bytes)/(1<<20), rtt)
	fmt.Fprintln(w, "| client | files/s (rounds) | median files/s | CPU per file (rounds) | median CPU per file | versitygw's CPU per file (median) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, cl := range clients {
		ms := results[cl.name]
		var rates, cpus, servers []float64
		var rs, cs []string
		for _, m := range ms {
			rates = append(rates, m.rate(n))
			cpus = append(cpus, m.cpuPerFile(n))
			servers = append(servers, m.serverPerFile(n))
			rs = append(rs, fmt.Sprintf("%.1f", m.rate(n)))
			cs = append(cs, fmt.Sprintf("%.3f", m.cpuPerFile(n)))
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %s ms | %.3f ms | %.3f ms |\n", cl.name, strings.Join(rs, ", "), benchkit.Median(rates),
			strings.Join(cs, ", "), benchkit.Median(cpus), benchkit.Median(servers))
	}
}
