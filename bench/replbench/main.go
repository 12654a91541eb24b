// Command replbench compares IPAS replication with `aws s3 cp` and `rclone copy`,
// side by side in one run: the same file, to the same versitygw, through the same
// upload cap (a toxiproxy proxy whose connections share one token bucket):
//
//	go run ./bench/replbench -dir /var/tmp
//
// For each scenario (file size and cap) and round, each client uploads the file
// once uninterrupted (goodput = size / time from the first byte through the proxy
// to the client's exit), and, in the first -interrupted-rounds rounds, once more
// killed with SIGKILL when half the file's size has gone through the proxy, then
// started again with the same command; the proxy counts every byte each client
// sent. IPAS runs as a child process (this program with -child) over a real store
// and raft journal, with the default replication settings; the cap is the proxy's,
// not IPAS's own limiter. Every upload is checked by hashing versitygw's copy.
// Last, the child replicates a -rss object straight to versitygw (no cap) and
// reports its peak RSS (VmHWM).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
	"github.com/ipas/ipas/store"
	"github.com/rs/zerolog"
)

const (
	defaultRounds            = 3
	defaultInterruptedRounds = 1
	defaultBigSize           = 256 << 20
	defaultBigCap            = 8 << 20
	defaultSmallSize         = 32 << 20
	defaultSmallCap          = 600_000
	defaultRSSSize           = 4 << 30
	defaultAWS               = "/usr/bin/aws"
	defaultRclone            = "rclone"
	// killFraction of the file's size through the proxy triggers the kill.
	killFraction = 0.5
)

type config struct {
	dir, aws, rclone        string
	rounds, interrupted     int
	bigSize, smallSize, rss int64
	bigCap, smallCap        int64
	keep                    bool
}

// scenario is one file size under one cap, and what each client did.
type scenario struct {
	size, capBytes int64
	file           *dataFile
	results        map[string]*results
}

type results struct {
	goodput     []float64 // bytes/s, uninterrupted rounds
	sent        []int64   // uninterrupted
	sentKilled  []int64   // killed at 50% and restarted
	hwmKiB      []int64   // IPAS only
	sentRestart []int64   // after the restart only
}

func main() {
	var c config
	var child bool
	var childDir, childEndpoint string
	flag.BoolVar(&child, "child", false, "internal: replicate -dir's archive to -child-endpoint until its queue is empty")
	flag.StringVar(&childEndpoint, "child-endpoint", "", "internal: the child's S3 endpoint")
	flag.StringVar(&c.dir, "dir", os.TempDir(), "`directory` for the files, the IPAS archive and versitygw's data")
	flag.StringVar(&c.aws, "aws", defaultAWS, "aws CLI binary")
	flag.StringVar(&c.rclone, "rclone", defaultRclone, "rclone binary")
	flag.IntVar(&c.rounds, "rounds", defaultRounds, "uninterrupted uploads per client and scenario")
	flag.IntVar(&c.interrupted, "interrupted-rounds", defaultInterruptedRounds, "interrupted uploads per client and scenario")
	flag.Int64Var(&c.bigSize, "big", defaultBigSize, "large file size, bytes")
	flag.Int64Var(&c.bigCap, "big-cap", defaultBigCap, "cap for the large file, bytes/s")
	flag.Int64Var(&c.smallSize, "small", defaultSmallSize, "small file size, bytes (0: skip)")
	flag.Int64Var(&c.smallCap, "small-cap", defaultSmallCap, "cap for the small file, bytes/s")
	flag.Int64Var(&c.rss, "rss", defaultRSSSize, "object size for the peak RSS run, bytes (0: skip)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.Parse()
	if child {
		childDir = c.dir
		if err := runChild(childDir, childEndpoint); err != nil {
			fmt.Fprintln(os.Stderr, "replbench child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "replbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(c.dir, "replbench-")
	if err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(work)
	}
	logf, err := os.Create(filepath.Join(work, "clients.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(os.Stderr, "work directory %s (client output in clients.log)\n", work)

	gw, err := startVersity(ctx, filepath.Join(work, "versitygw"), logf)
	if err != nil {
		return err
	}
	defer gw.Stop()

	a := &archive{dir: filepath.Join(work, "ipas"), log: zerolog.New(logf).Level(zerolog.WarnLevel)}
	blobs := map[string]store.Blob{}
	var scens []*scenario
	for i, sc := range [][2]int64{{c.bigSize, c.bigCap}, {c.smallSize, c.smallCap}} {
		if sc[0] <= 0 {
			continue
		}
		f, err := writeFile(filepath.Join(work, fmt.Sprintf("file%d.bin", i)), sc[0], uint64(i+1))
		if err != nil {
			return err
		}
		in, err := os.Open(f.path)
		if err != nil {
			return err
		}
		b, err := a.putBlob(ctx, in)
		in.Close()
		if err != nil {
			return err
		}
		blobs[f.path] = b
		scens = append(scens, &scenario{size: sc[0], capBytes: sc[1], file: f, results: map[string]*results{}})
	}
	awsU, err := awsUploader(c.aws, work)
	if err != nil {
		return err
	}
	rcloneU, err := rcloneUploader(c.rclone, work)
	if err != nil {
		return err
	}
	clients := []uploader{ipasUploader(self, a, blobs), awsU, rcloneU}

	seq := 0
	for round := range max(c.rounds, c.interrupted) {
		for _, sc := range scens {
			for k := range clients {
				u := clients[(k+round)%len(clients)] // the order rotates between rounds
				res := sc.results[u.name]
				if res == nil {
					res = &results{}
					sc.results[u.name] = res
				}
				for _, killed := range []bool{false, true} {
					if (!killed && round >= c.rounds) || (killed && round >= c.interrupted) {
						continue
					}
					seq++
					t, after, err := upload(ctx, u, sc, gw, fmt.Sprintf("r%d-%d", round, seq), killed, logf)
					if err != nil {
						return fmt.Errorf("%s, %s: %w", u.name, mib(sc.size), err)
					}
					if killed {
						res.sentKilled = append(res.sentKilled, t.sent)
						res.sentRestart = append(res.sentRestart, after)
					} else {
						res.goodput = append(res.goodput, float64(sc.size)/t.elapsed.Seconds())
						res.sent = append(res.sent, t.sent)
					}
					if t.hwmKiB > 0 {
						res.hwmKiB = append(res.hwmKiB, t.hwmKiB)
					}
					fmt.Fprintf(os.Stderr, "round %d %-11s %s cap %s killed=%-5v sent %s in %s (%.1f%% of cap)\n",
						round+1, u.name, mib(sc.size), rateStr(sc.capBytes), killed, mib(t.sent), t.elapsed.Round(time.Millisecond),
						100*float64(sc.size)/t.elapsed.Seconds()/float64(sc.capBytes))
				}
			}
		}
	}

	var rss *transfer
	if c.rss > 0 {
		t, err := rssRun(ctx, self, a, gw, c.rss, logf)
		if err != nil {
			return fmt.Errorf("rss run: %w", err)
		}
		rss = &t
	}
	printTable(os.Stdout, c, scens, clients, rss)
	return nil
}

// upload runs one upload through a fresh capped proxy and checks the remote
// copy. after is what was sent after a kill (0 without one).
func upload(ctx context.Context, u uploader, sc *scenario, gw *versity, key string, killed bool, logw io.Writer) (transfer, int64, error) {
	px, err := benchkit.StartProxy(gw.Addr, benchkit.Shape{UpRate: sc.capBytes})
	if err != nil {
		return transfer{}, 0, err
	}
	defer px.Stop()
	mk, rkey, err := u.prepare(ctx, sc.file, key, px.Endpoint())
	if err != nil {
		return transfer{}, 0, err
	}
	var killAt int64
	if killed {
		killAt = int64(float64(sc.size) * killFraction)
	}
	ideal := time.Duration(float64(sc.size) / float64(sc.capBytes) * float64(time.Second))
	fmt.Fprintf(logw, "=== %s %s key %s killed=%v\n", u.name, mib(sc.size), key, killed)
	var atKill int64
	t, err := runTransfer(ctx, mk, px, killAt, 3*ideal+transferSlack, logw, &atKill)
	if err != nil {
		return t, 0, err
	}
	sum, err := gw.objectSHA256(rkey)
	if err != nil {
		return t, 0, err
	}
	defer gw.remove(rkey)
	if sum != sc.file.sha256 {
		return t, 0, fmt.Errorf("%s: %w", rkey, errMismatch)
	}
	var after int64
	if killed {
		after = t.sent - atKill
	}
	return t, after, nil
}

// rssRun replicates an object of size random bytes straight to versitygw.
func rssRun(ctx context.Context, self string, a *archive, gw *versity, size int64, logw io.Writer) (transfer, error) {
	b, err := a.putBlob(ctx, io.LimitReader(benchkit.RandReader(99), size))
	if err != nil {
		return transfer{}, err
	}
	key := "rss"
	if err := a.queueObject(ctx, key, b); err != nil {
		return transfer{}, err
	}
	px, err := benchkit.StartProxy(gw.Addr, benchkit.Shape{}) // uncapped, only to count and time
	if err != nil {
		return transfer{}, err
	}
	defer px.Stop()
	fmt.Fprintf(logw, "=== ipas %s uncapped (peak RSS)\n", mib(size))
	var none int64
	t, err := runTransfer(ctx, func() *exec.Cmd { return childCommand(self, a, px.Endpoint()) }, px, 0, time.Hour, logw, &none)
	if err != nil {
		return t, err
	}
	rkey := ipasPrefix + "/" + localBucket + "/" + key
	defer gw.remove(rkey)
	sum, err := gw.objectSHA256(rkey)
	if err != nil {
		return t, err
	}
	if sum != b.Digest.String() {
		return t, fmt.Errorf("%s: %w", rkey, errMismatch)
	}
	return t, nil
}

// writeFile writes size pseudo-random (incompressible) bytes.
func writeFile(path string, size int64, seed uint64) (*dataFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, io.LimitReader(benchkit.RandReader(seed), size)); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	return &dataFile{path: path, size: size, sha256: sum}, nil
}
