package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/humanize"
)

// printStatus writes the status as a short report and job tables.
func printStatus(w io.Writer, st admin.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range st.Alerts {
		fmt.Fprintf(tw, "ALERT\t%s (since %s)\n", a.Summary, a.Since.Local().Format(time.DateTime))
	}
	r := st.Replication
	state := r.State
	if r.State == admin.StateUnreachable && r.UnreachableSince != nil {
		state = fmt.Sprintf("REMOTE UNREACHABLE since %s (%s)", r.UnreachableSince.Local().Format(time.DateTime),
			strings.ReplaceAll(r.LastError, "\n", " "))
	} else if r.Error != "" {
		state += ": " + r.Error
		if r.PausedSince != nil {
			state += fmt.Sprintf(" (since %s)", r.PausedSince.Local().Format(time.DateTime))
		}
	}
	fmt.Fprintf(tw, "Replication\t%s\n", state)
	remote := st.Remote.Endpoint + ", bucket " + st.Remote.Bucket
	if st.Remote.Prefix != "" {
		remote += ", prefix " + st.Remote.Prefix
	}
	if st.Remote.Local {
		remote += " (a local copy on this machine, NOT offsite: configure remote: for an offsite copy)"
	}
	fmt.Fprintf(tw, "Remote\t%s\n", remote)
	limit := "unlimited now"
	if r.Limit > 0 {
		limit = "now " + rate(float64(r.Limit))
	}
	pause := ""
	if r.ManualPause {
		pause = ", paused by an operator (`gateway replication resume`)"
	}
	fmt.Fprintf(tw, "Bandwidth\t%s (%s%s)\n", r.Bandwidth, limit, pause)
	b := r.Budget
	if b.Bytes > 0 {
		line := fmt.Sprintf("%s of %s used this month", humanize.Bytes(b.Used), humanize.Bytes(b.Bytes))
		if b.Spent && b.Resets != nil {
			line += ", SPENT: uploads wait until " + b.Resets.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "Budget\t%s\n", line)
	} else {
		fmt.Fprintf(tw, "Budget\tnone (%s uploaded this month)\n", humanize.Bytes(b.Used))
	}
	t := st.Totals
	more := ""
	if t.QueueTruncated {
		more = " or more"
	}
	fmt.Fprintf(tw, "Queue\t%d jobs%s, %s; %d quarantined\n", t.QueueJobs, more, humanize.Bytes(t.QueueBytes), t.Quarantined)
	fmt.Fprintf(tw, "Replicated\t%d objects, %s since start (%s sent); %s, %.1f objects/s\n",
		t.ReplicatedObjects, humanize.Bytes(t.ReplicatedBytes), humanize.Bytes(t.SentBytes), rate(t.Rate), t.ObjectRate)
	fmt.Fprintf(tw, "Offsite\t%s\n", offsiteLine(st.Offsite))
	j := st.Journal
	fmt.Fprintf(tw, "Archive\t%d buckets, %d objects, %s; journal index %d\n", j.Buckets, j.Objects, humanize.Bytes(j.Bytes), j.AppliedIndex)
	if j.Versions > 0 {
		fmt.Fprintf(tw, "Versions\t%d noncurrent versions and delete markers, %s\n", j.Versions, humanize.Bytes(j.VersionBytes))
	}
	if len(st.PublicBuckets) > 0 {
		fmt.Fprintf(tw, "WARNING\tpublic buckets (anyone can read them without a key, by their policy): %s\n", strings.Join(st.PublicBuckets, ", "))
	}
	if c := st.Cache; c != nil && (c.Enabled || c.RemoteOnlyBytes > 0 || c.Misses > 0) {
		for i, line := range cacheLines(c) {
			title := "Cache"
			if i > 0 {
				title = ""
			}
			fmt.Fprintf(tw, "%s\t%s\n", title, line)
		}
	}
	if st.Reconcile != nil {
		fmt.Fprintf(tw, "Reconcile\t%s\n", reconcileLine(st.Reconcile))
	}
	if st.Scrub != nil {
		for i, line := range scrubLines(st.Scrub) {
			title := "Scrub"
			if i > 0 {
				title = ""
			}
			fmt.Fprintf(tw, "%s\t%s\n", title, line)
		}
	}
	if st.Lifecycle != nil {
		fmt.Fprintf(tw, "Lifecycle\t%s\n", lifecycleLine(st.Lifecycle))
	}
	tw.Flush()
	printJobs(w, "Uploading", st.Active)
	printJobs(w, "Failing", st.Failing)
	printSkippedDirs(w, st.Drop.Skipped)
}

// offsiteLine says how much is not offsite yet, since when, and when it will be.
func offsiteLine(o admin.Offsite) string {
	last := "no upload confirmed yet"
	if o.LastUpload != nil {
		last = "last upload " + o.LastUpload.Local().Format(time.DateTime)
	}
	if o.PendingObjects == 0 {
		return "everything is offsite; " + last
	}
	line := fmt.Sprintf("%d objects (%s) not yet offsite", o.PendingObjects, humanize.Bytes(o.PendingBytes))
	if o.OldestPending != nil {
		line += ", the oldest put " + o.OldestPending.Local().Format(time.DateTime)
	}
	eta := "ETA unknown"
	if o.ETASeconds != nil {
		eta = fmt.Sprintf("ETA %s at %s", (time.Duration(*o.ETASeconds) * time.Second).Round(time.Second), rate(o.RecentRate))
	}
	return line + "; " + last + "; " + eta
}

func printJobs(w io.Writer, title string, jobs []admin.Job) {
	if len(jobs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tOP\tDONE\tPARTS\tRATE\tETA\tATTEMPTS\tLAST ERROR")
	for _, jb := range jobs {
		eta := "-"
		if jb.ETASeconds > 0 {
			eta = (time.Duration(jb.ETASeconds) * time.Second).String()
		}
		lastErr := jb.LastError
		if jb.Quarantined {
			lastErr = "QUARANTINED: " + lastErr
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s / %s\t%d/%d\t%s\t%s\t%d\t%s\n", jb.Bucket, jb.Key, jb.Op,
			humanize.Bytes(jb.BytesDone), humanize.Bytes(jb.Size), jb.PartsDone, jb.Parts, rate(jb.Rate), eta, jb.Attempts,
			strings.ReplaceAll(lastErr, "\n", " "))
	}
	tw.Flush()
}

func rate(bps float64) string { return humanize.Bytes(int64(bps)) + "/s" }

// cacheLines say how full the capacity is, with what, and how reads fare.
func cacheLines(c *admin.CacheStatus) []string {
	var lines []string
	if c.Enabled {
		lines = append(lines, fmt.Sprintf("%s used of %s (store.capacity %s; evicting above %s down to %s)",
			humanize.Bytes(c.UsedBytes), humanize.Bytes(c.CapacityBytes), c.Setting, humanize.Bytes(c.HighWaterBytes), humanize.Bytes(c.LowWaterBytes)))
	} else {
		lines = append(lines, "no store.capacity: nothing is evicted by itself")
	}
	lines = append(lines, fmt.Sprintf("local %s: %s evictable (offsite), %s not offsite yet, %s kept local; %s on the remote only",
		humanize.Bytes(c.LocalBytes), humanize.Bytes(c.EvictableBytes), humanize.Bytes(c.NotOffsiteBytes), humanize.Bytes(c.PinnedBytes), humanize.Bytes(c.RemoteOnlyBytes)))
	lines = append(lines, fmt.Sprintf("reads: %d local, %d through the remote (hit ratio %.0f%%, %s read through); %d objects (%s) evicted",
		c.Hits, c.Misses, 100*c.HitRatio, humanize.Bytes(c.ReadThroughBytes), c.EvictedObjects, humanize.Bytes(c.EvictedBytes)))
	if c.Refusing != "" {
		lines = append(lines, "WRITES REFUSED (507): "+c.Refusing)
	}
	return lines
}
