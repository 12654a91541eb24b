package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/humanize"
)

// runCacheCommand runs `gateway evict` or `gateway fetch` against the
// running daemon: BUCKET[/KEY-OR-PREFIX].
func runCacheCommand(name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		what := "Evicts now, from the running daemon's disk, every object under BUCKET[/PREFIX] whose copy is\n" +
			"verified on the remote and that store.keep_local does not keep: its bytes are read through\n" +
			"from the remote when next read. Objects not offsite yet stay, and are counted."
		if name == "fetch" {
			what = "Brings back into the running daemon's disk every object under BUCKET[/PREFIX] whose bytes\n" +
				"are on the remote only, each checked against its SHA-256 before it counts as local."
		}
		fmt.Fprintf(stderr, "Usage: gateway %s [FLAGS] BUCKET[/KEY-OR-PREFIX]\n\n%s\nA key is a prefix of itself: end a folder with / to mean only what is inside it.\n\n", name, what)
		fs.PrintDefaults()
	}
	var cf controlFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	bucket, prefix, _ := strings.Cut(fs.Arg(0), "/")
	c, endpoint, err := cf.client()
	if err != nil {
		return err
	}
	c.HTTP.Timeout = 0 // a fetch takes as long as its downloads; Ctrl-C ends the wait
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	req := admin.CacheRequest{Bucket: bucket, Prefix: prefix}
	if name == "evict" {
		r, err := c.Evict(ctx, req)
		if err != nil {
			return explain(err, endpoint)
		}
		if *asJSON {
			return printJSON(stdout, r)
		}
		fmt.Fprintf(stdout, "%d objects matched: %d evicted (%s freed once collected), %d on the remote only already, "+
			"%d not offsite yet (kept), %d kept by store.keep_local\n",
			r.Matched, r.Evicted, humanize.Bytes(r.EvictedBytes), r.AlreadyRemote, r.NotOffsite, r.Pinned)
		return nil
	}
	r, err := c.Fetch(ctx, req)
	if err != nil {
		return explain(err, endpoint)
	}
	if *asJSON {
		if err := printJSON(stdout, r); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%d objects matched: %d fetched (%s), %d local already, %d failed\n",
			r.Matched, r.Fetched, humanize.Bytes(r.FetchedBytes), r.AlreadyLocal, r.Failed)
	}
	if r.Failed > 0 {
		return fmt.Errorf("%d objects could not be fetched; the first: %s", r.Failed, r.FirstError)
	}
	return nil
}
