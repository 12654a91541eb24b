package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ipas/ipas/admin"
)

// runLifecycle asks the running daemon to apply the buckets' lifecycle rules
// now, waits for the pass and prints what it did.
func runLifecycle(args []string, stdout, stderr io.Writer) error {
	return passCommand[admin.Lifecycle, admin.LifecycleRun]{
		name: "lifecycle",
		about: "Asks the running daemon to apply every bucket's lifecycle rules now (as it does every\n" +
			"s3.lifecycle_interval): expire noncurrent versions, remove expired delete markers,\n" +
			"abort old multipart uploads. Waits for the pass (or joins the one running) and prints\n" +
			"what it did.\n",
		state: func(c *admin.Client) func(context.Context, bool) (admin.Lifecycle, error) { return c.Lifecycle },
		runs:  func(s admin.Lifecycle) (*admin.LifecycleRun, *admin.LifecycleRun) { return s.Running, s.Last },
		run:   func(r *admin.LifecycleRun) admin.Run { return r.Run },
		print: func(w io.Writer, r *admin.LifecycleRun) { fmt.Fprintln(w, "lifecycle "+lifecycleRunLine(r)) },
	}.main(args, stdout, stderr)
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
