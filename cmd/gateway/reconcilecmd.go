package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ipas/ipas/admin"
)

// passPollInterval is how often a command that waits for a pass asks the daemon.
const passPollInterval = 500 * time.Millisecond

var errPassFailed = errors.New("the pass failed (see above)")

// runRemoteReconcile asks the running daemon to list the remote and compare it
// with the index, waits for the pass and prints what it found.
func runRemoteReconcile(args []string, stdout, stderr io.Writer) error {
	return passCommand[admin.Reconcile, admin.ReconcileRun]{
		name: "remote reconcile",
		about: "Asks the running daemon to list the remote (LIST requests only, no download) and to\n" +
			"compare it with the archive: what the remote lacks, or holds with another size or\n" +
			"ETag, is queued for upload; what only the remote holds is reported. Waits for the\n" +
			"pass (or joins the one running) and prints what it found.\n",
		state: func(c *admin.Client) func(context.Context, bool) (admin.Reconcile, error) { return c.Reconcile },
		runs:  func(s admin.Reconcile) (*admin.ReconcileRun, *admin.ReconcileRun) { return s.Running, s.Last },
		run:   func(r *admin.ReconcileRun) admin.Run { return r.Run },
		print: printReconcileRun,
	}.main(args, stdout, stderr)
}

// passCommand is a command that starts a pass of the running daemon (or
// joins the one running), waits for it and prints its report.
type passCommand[S, R any] struct {
	name, about string // the command's words and what it does, for -h
	// state is the admin API's call that reports the pass, after starting
	// one if start is true.
	state func(c *admin.Client) func(ctx context.Context, start bool) (S, error)
	runs  func(S) (running, last *R)
	run   func(*R) admin.Run
	print func(io.Writer, *R)
}

func (pc passCommand[S, R]) main(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(pc.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gateway %s [FLAGS]\n\n%s\n", pc.name, pc.about)
		fs.PrintDefaults()
	}
	var cf controlFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the pass's report as JSON (the admin API's document)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	c, endpoint, err := cf.client()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	state := pc.state(c)
	st, err := state(ctx, true)
	if err != nil {
		return explain(err, endpoint)
	}
	run, err := waitPass(ctx, st, func(ctx context.Context) (S, error) { return state(ctx, false) },
		pc.runs, func(r *R) time.Time { return pc.run(r).Started })
	if err != nil {
		return explain(err, endpoint)
	}
	if *asJSON {
		if err := printJSON(stdout, run); err != nil {
			return err
		}
	} else {
		pc.print(stdout, run)
	}
	if e := pc.run(run).Error; e != "" {
		return fmt.Errorf("%w: %s", errPassFailed, e)
	}
	return nil
}

// waitPass polls until the pass that st shows running (or just finished) has
// finished, and returns its report.
func waitPass[S any, R any](ctx context.Context, st S, get func(context.Context) (S, error),
	runs func(S) (running, last *R), started func(*R) time.Time) (*R, error) {
	running, last := runs(st)
	var want time.Time
	switch {
	case running != nil:
		want = started(running)
	case last != nil:
		return last, nil // it ended before the daemon answered
	default:
		return nil, errors.New("the daemon reports no pass")
	}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting (the pass goes on in the daemon): %w", ctx.Err())
		case <-time.After(passPollInterval):
		}
		st, err := get(ctx)
		if err != nil {
			return nil, err
		}
		running, last = runs(st)
		if running != nil && started(running).Equal(want) {
			continue
		}
		if last != nil && started(last).Equal(want) {
			return last, nil
		}
		return nil, errors.New("the pass ended, but the daemon reports another one (restarted?); see `gateway status`")
	}
}

// printReconcileRun prints a finished reconcile pass.
func printReconcileRun(w io.Writer, r *admin.ReconcileRun) {
	outcome := "finished"
	if r.Error != "" {
		outcome = "FAILED: " + r.Error
	}
	fmt.Fprintf(w, "reconcile %s in %s (%s)\n", outcome, seconds(r.Seconds), runWhy(r.Run))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  checked\t%d objects in %d buckets\n", r.Checked, r.Buckets)
	fmt.Fprintf(tw, "  missing\t%d (not on the remote)\n", r.Missing)
	fmt.Fprintf(tw, "  different\t%d (on the remote with another size or ETag)\n", r.Different)
	fmt.Fprintf(tw, "  pending\t%d (missing or different, their upload was queued already)\n", r.Pending)
	fmt.Fprintf(tw, "  queued\t%d uploads%s\n", r.Queued, sample(r.QueuedSample, r.Queued))
	fmt.Fprintf(tw, "  recorded\t%d (found on the remote, now recorded as replicated)\n", r.Recorded)
	fmt.Fprintf(tw, "  remote-only\t%d (on the remote, not in the archive: kept after a local delete, or written by something else)%s\n",
		r.RemoteOnly, sample(r.RemoteOnlySample, r.RemoteOnly))
	if r.Lost > 0 {
		fmt.Fprintf(tw, "  LOST\t%d (their bytes were on the remote only, restored with --metadata-only, and the remote no longer has them as they were: restore them from another copy, or delete them)%s\n",
			r.Lost, sample(r.LostSample, r.Lost))
	}
	fmt.Fprintf(tw, "  LIST requests\t%d\n", r.ListRequests)
	tw.Flush()
}

// reconcileLine is the one-line summary in `gateway status`.
func reconcileLine(rc *admin.Reconcile) string {
	var parts []string
	if r := rc.Running; r != nil {
		parts = append(parts, fmt.Sprintf("running since %s (%s): %d checked, %d queued so far",
			r.Started.Local().Format(time.DateTime), runWhy(r.Run), r.Checked, r.Queued))
	}
	if r := rc.Last; r != nil {
		line := fmt.Sprintf("last %s (%s): %d checked, %d missing, %d different, %d queued, %d remote-only, %d LIST requests, %s",
			r.Started.Local().Format(time.DateTime), runWhy(r.Run), r.Checked, r.Missing, r.Different, r.Queued,
			r.RemoteOnly, r.ListRequests, seconds(r.Seconds))
		if r.Error != "" {
			line += "; FAILED: " + r.Error
		}
		parts = append(parts, line)
	}
	if len(parts) == 0 {
		parts = append(parts, "never run")
	}
	parts = append(parts, nextLine(rc.Next))
	return strings.Join(parts, "; ")
}

func nextLine(next *time.Time) string {
	if next == nil {
		return "no schedule"
	}
	return "next " + next.Local().Format(time.DateTime)
}

func runWhy(r admin.Run) string {
	if r.Reason == "" {
		return r.Trigger
	}
	return r.Trigger + ": " + r.Reason
}

func sample(names []string, total int64) string {
	if len(names) == 0 {
		return ""
	}
	s := ": " + strings.Join(names, ", ")
	if total > int64(len(names)) {
		s += ", ..."
	}
	return s
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}
