package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ipas/ipas/admin"
)

// runLifecycle asks the running daemon to apply the buckets' lifecycle rules
// now, waits for the pass and prints what it did.
func runLifecycle(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lifecycle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gateway lifecycle [FLAGS]\n\n"+
			"Asks the running daemon to apply every bucket's lifecycle rules now (as it does every\n"+
			"s3.lifecycle_interval): expire noncurrent versions, remove expired delete markers,\n"+
			"abort old multipart uploads. Waits for the pass (or joins the one running) and prints\n"+
			"what it did.\n\n")
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
	run, err := startAndWait(ctx, endpoint, c.Lifecycle,
		func(s admin.Lifecycle) (*admin.LifecycleRun, *admin.LifecycleRun) { return s.Running, s.Last },
		func(r *admin.LifecycleRun) time.Time { return r.Started })
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(stdout, run); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout, "lifecycle "+lifecycleRunLine(run))
	}
	if run.Error != "" {
		return fmt.Errorf("%w: %s", errPassFailed, run.Error)
	}
	return nil
}

// lifecycleRunLine says what a finished pass did.
func lifecycleRunLine(r *admin.LifecycleRun) string {
	line := fmt.Sprintf("%s (%s): %d buckets with rules; %d noncurrent versions expired, %d expired delete markers removed, %d incomplete uploads aborted, %s",
		r.Started.Local().Format(time.DateTime), runWhy(r.Run), r.Buckets, r.VersionsExpired, r.MarkersRemoved, r.UploadsAborted, seconds(r.Seconds))
	if r.Error != "" {
		line += "; FAILED: " + r.Error
	}
	return line
}

// lifecycleLine is the one-line summary in `gateway status`.
func lifecycleLine(lc *admin.Lifecycle) string {
	var parts []string
	if r := lc.Running; r != nil {
		parts = append(parts, fmt.Sprintf("running since %s (%s): %d buckets done",
			r.Started.Local().Format(time.DateTime), runWhy(r.Run), r.Buckets))
	}
	if r := lc.Last; r != nil {
		parts = append(parts, "last "+lifecycleRunLine(r))
	}
	if len(parts) == 0 {
		parts = append(parts, "never run")
	}
	parts = append(parts, nextLine(lc.Next))
	return strings.Join(parts, "; ")
}
