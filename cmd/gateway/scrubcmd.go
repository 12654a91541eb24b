package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/humanize"
)

// errUnrepairable makes `gateway scrub --wait` exit non-zero when corrupt blobs remain.
var errUnrepairable = errors.New("corrupt blobs remain (listed above)")

// runScrub asks the running daemon to re-hash its blobs now, and with --wait
// waits for the pass and prints what it found.
func runScrub(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scrub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gateway scrub [--wait] [FLAGS]\n\n"+
			"Asks the running daemon to re-hash every local blob now (at store.scrub_rate), and to\n"+
			"repair corrupt ones from the remote. Without --wait it starts the pass (or reports the\n"+
			"one running) and returns; with --wait it prints the result and exits 1 if corrupt\n"+
			"blobs remain. `gateway verify` checks a stopped daemon's archive instead.\n\n")
		fs.PrintDefaults()
	}
	var cf controlFlags
	cf.register(fs)
	wait := fs.Bool("wait", false, "wait for the pass to end and print its result")
	asJSON := fs.Bool("json", false, "print the scrub's state (or, with --wait, the pass's report) as JSON")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	c, endpoint, err := cf.client()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	st, err := c.Scrub(ctx, true)
	if err != nil {
		return explain(err, endpoint)
	}
	if !*wait {
		if *asJSON {
			return printJSON(stdout, st)
		}
		if r := st.Running; r != nil {
			fmt.Fprintf(stdout, "scrub running since %s (%s): %d blobs, %s checked so far; `gateway status` shows its progress\n",
				r.Started.Local().Format(time.DateTime), runWhy(r.Run), r.Blobs, humanize.Bytes(r.Bytes))
		} else if st.Last != nil {
			printScrubRun(stdout, st.Last)
		}
		return nil
	}
	run, err := waitPass(ctx, st, func(ctx context.Context) (admin.Scrub, error) { return c.Scrub(ctx, false) },
		func(s admin.Scrub) (*admin.ScrubRun, *admin.ScrubRun) { return s.Running, s.Last },
		func(r *admin.ScrubRun) time.Time { return r.Started })
	if err != nil {
		return explain(err, endpoint)
	}
	if *asJSON {
		if err := printJSON(stdout, run); err != nil {
			return err
		}
	} else {
		printScrubRun(stdout, run)
	}
	switch {
	case run.Error != "":
		return fmt.Errorf("%w: %s", errPassFailed, run.Error)
	case run.UnrepairableCount > 0:
		return errUnrepairable
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printScrubRun prints a scrub pass and every blob it could not repair.
func printScrubRun(w io.Writer, r *admin.ScrubRun) {
	outcome := "finished"
	if r.Error != "" {
		outcome = "FAILED: " + r.Error
	}
	fmt.Fprintf(w, "scrub %s in %s (%s): %d blobs, %s checked; %d corrupt, %d repaired from the remote, %d unrepairable\n",
		outcome, seconds(r.Seconds), runWhy(r.Run), r.Blobs, humanize.Bytes(r.Bytes), r.Corrupt, r.Repaired, r.UnrepairableCount)
	for _, p := range r.Unrepairable {
		fmt.Fprintf(w, "  CORRUPT %s (blob %s): %s\n", p.Object, p.Blob, p.Reason)
	}
}

// scrubLines are the lines of `gateway status` about the scrub: a summary, and
// one loud line when corrupt objects are not offsite.
func scrubLines(sc *admin.Scrub) []string {
	var parts []string
	if r := sc.Running; r != nil {
		parts = append(parts, fmt.Sprintf("running since %s (%s): %d blobs, %s checked so far, %d corrupt",
			r.Started.Local().Format(time.DateTime), runWhy(r.Run), r.Blobs, humanize.Bytes(r.Bytes), r.Corrupt))
	}
	var loud string
	if r := sc.Last; r != nil {
		line := fmt.Sprintf("last %s (%s): %d blobs, %s checked, %d corrupt, %d repaired, %d unrepairable, %s",
			r.Started.Local().Format(time.DateTime), runWhy(r.Run), r.Blobs, humanize.Bytes(r.Bytes), r.Corrupt, r.Repaired,
			r.UnrepairableCount, seconds(r.Seconds))
		if r.Error != "" {
			line += "; FAILED: " + r.Error
		}
		parts = append(parts, line)
		var notOffsite []string
		for _, p := range r.Unrepairable {
			if !p.Offsite {
				notOffsite = append(notOffsite, p.Object)
			}
		}
		if len(notOffsite) > 0 {
			loud = fmt.Sprintf("%d corrupt objects not offsite: restore them from your own copy (%s); `gateway scrub --wait` lists what to do",
				len(notOffsite), strings.Join(notOffsite, ", "))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "never run")
	}
	rate := "unlimited"
	if sc.RateLimit > 0 {
		rate = humanize.Bytes(sc.RateLimit) + "/s"
	}
	parts = append(parts, nextLine(sc.Next)+", at "+rate)
	out := []string{strings.Join(parts, "; ")}
	if loud != "" {
		out = append(out, "!! "+loud)
	}
	return out
}
