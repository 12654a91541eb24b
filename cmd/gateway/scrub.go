package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/pass"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/scrub"
	"github.com/ipas/ipas/store"
)

const (
	// DefaultScrubInterval is how often every local blob is re-hashed
	// (store.scrub_interval): monthly.
	DefaultScrubInterval = 30 * 24 * time.Hour
	// DefaultScrubRate bounds the disk reads of a scrub (store.scrub_rate),
	// leaving the disk to clients: a Pi's SD card reads 40-90 MB/s.
	DefaultScrubRate = "20MiB/s"
	// scrubRetry is the wait before an interrupted or failed scrub goes on.
	scrubRetry = time.Hour
	// scrubFileName keeps the last scrub's report (and where to resume).
	scrubFileName = "scrub.json"
)

// parseScrubRate reads store.scrub_rate: a rate such as 20MiB/s; 0 or
// unlimited for none (returned as 0).
func parseScrubRate(s string) (int64, error) {
	if strings.TrimSpace(s) == "0" {
		return 0, nil
	}
	n, err := replication.ParseRate(s)
	if n == replication.Unlimited {
		n = 0
	}
	return n, err
}

// blobScrub runs scrub passes over the local store: every
// store.scrub_interval and on request, on every node (each has its own blobs).
type blobScrub struct {
	runner   *pass.Runner[scrub.Result]
	scrubber *scrub.Scrubber
	log      zerolog.Logger
	done     chan struct{}
}

// startScrub starts the scrub's schedule; it stops with ctx.
func startScrub(ctx context.Context, cfg Config, a *dataArchive, rep *replicator, log zerolog.Logger) (*blobScrub, error) {
	rate, err := parseScrubRate(cfg.Store.ScrubRate)
	if err != nil {
		return nil, err
	}
	log = log.With().Str("component", "scrub").Logger()
	bs := &blobScrub{scrubber: scrub.New(a.store, a.node, rep.client, log), log: log, done: make(chan struct{})}
	bs.scrubber.Rate = rate
	path := a.dir.join(scrubFileName)
	bs.runner = pass.New("scrub", bs.run, loadReport[scrub.Result](path, log), log)
	bs.runner.Interval = cfg.Store.ScrubInterval
	bs.runner.Retry = scrubRetry
	bs.runner.OnDone = func(r pass.Report[scrub.Result]) {
		bs.logResult(r)
		if err := saveReport(path, r); err != nil {
			log.Warn().Err(err).Msg("the scrub report was not saved: the schedule restarts with the daemon")
		}
	}
	go func() {
		defer close(bs.done)
		bs.runner.RunTerm(ctx, "", "")
	}()
	return bs, nil
}

// wait returns once the schedule has stopped (its ctx ended).
func (bs *blobScrub) wait(ctx context.Context) error {
	select {
	case <-bs.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scrub did not stop: %w", ctx.Err())
	}
}

// run is one pass; after an interrupted one it goes on where that stopped.
func (bs *blobScrub) run(ctx context.Context, progress func(scrub.Result)) (scrub.Result, error) {
	var resume *store.Digest
	if last := bs.runner.State().Last; last != nil && last.Error != "" && last.Result.ResumeAfter != "" {
		if d, err := store.ParseDigest(last.Result.ResumeAfter); err == nil {
			resume = &d
			bs.log.Info().Str("after", d.String()).Msg("scrub continues where the last pass stopped")
		}
	}
	return bs.scrubber.Run(ctx, resume, progress)
}

func (bs *blobScrub) logResult(r pass.Report[scrub.Result]) {
	res := r.Result
	var ev *zerolog.Event
	switch {
	case res.NotOffsite > 0:
		ev = bs.log.Error().Int64("not_offsite", res.NotOffsite).
			Str("fix", "restore them from your own copy: `gateway status` names them")
	case res.Corrupt > 0:
		ev = bs.log.Warn()
	default:
		ev = bs.log.Info()
	}
	ev.Int64("blobs", res.Blobs).Int64("bytes", res.Bytes).Int64("corrupt", res.Corrupt).Int64("repaired", res.Repaired).
		Int64("unrepairable", res.UnrepairableCount).Msg("scrub result")
}

// state is the scrub's state for the admin API, after starting a pass if
// start is true.
func (bs *blobScrub) state(start bool) (admin.Scrub, error) {
	if start {
		if err := requestPass(bs.runner, "gateway scrub", "the daemon is stopping"); err != nil {
			return admin.Scrub{}, err
		}
	}
	st := bs.runner.State()
	return admin.Scrub{Running: scrubRun(st.Running), Last: scrubRun(st.Last), Next: nextPass(bs.runner),
		RateLimit: bs.scrubber.Rate}, nil
}

func scrubRun(rep *pass.Report[scrub.Result]) *admin.ScrubRun {
	if rep == nil {
		return nil
	}
	r := rep.Result
	out := &admin.ScrubRun{Run: adminRun(rep), Blobs: r.Blobs, Bytes: r.Bytes, Corrupt: r.Corrupt,
		Repaired: r.Repaired, UnrepairableCount: r.UnrepairableCount}
	for _, p := range r.Unrepairable {
		out.Unrepairable = append(out.Unrepairable, admin.ScrubProblem{Blob: p.Blob, Object: p.Object, Offsite: p.Offsite, Reason: p.Reason})
	}
	return out
}
