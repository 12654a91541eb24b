package alert

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/humanize"
)

// Kinds of condition. Each is one alert at a time, whatever the number of
// jobs or blobs behind it: the notice's Detail names them.
const (
	KindReplicationStopped = "replication-stopped"
	KindQuarantined        = "job-quarantined"
	KindOldestPending      = "oldest-pending"
	KindDiskFull           = "disk-full"
	KindCorruption         = "scrub-corruption"
	KindBudgetSpent        = "budget-spent"
	// KindTest is the notice of `gateway alert test`; it is never tracked.
	KindTest = "test"
)

// Condition is one kind of trouble seen in a status.
type Condition struct {
	Kind    string
	Summary string // one line, for a title or a subject
	Detail  string // what is wrong and what to do
}

// Thresholds say when a measured value becomes an alert.
type Thresholds struct {
	// OldestPending: an object not offsite for longer is an alert.
	OldestPending time.Duration
	// DiskPercent: a data disk used above this percentage is an alert.
	DiskPercent float64
	// Unreachable: a remote that no attempt reached for this long is a
	// stopped replication, like one that refuses our requests.
	Unreachable time.Duration
}

// maxNamed bounds the jobs a Detail names.
const maxNamed = 5

// Evaluate returns the conditions that hold in st, in a fixed order.
func Evaluate(st admin.Status, th Thresholds) []Condition {
	var out []Condition
	now := st.Time
	rep := st.Replication
	switch {
	case rep.State == admin.StateError:
		out = append(out, Condition{KindReplicationStopped, "replication stopped: the remote refuses our requests",
			fmt.Sprintf("The remote %s refused an upload: %s\nUploads stay paused until this is fixed (check the remote's credentials, bucket and clock; `gateway remote test` runs the checks).",
				remoteName(st.Remote), rep.Error)})
	case rep.State == admin.StateUnreachable && rep.UnreachableSince != nil && now.Sub(*rep.UnreachableSince) >= th.Unreachable:
		out = append(out, Condition{KindReplicationStopped, "replication stopped: the remote cannot be reached",
			fmt.Sprintf("No upload to %s has succeeded since %s (%s): %s\nCheck the network and the remote's endpoint.",
				remoteName(st.Remote), stamp(*rep.UnreachableSince), age(now.Sub(*rep.UnreachableSince)), rep.LastError)})
	}
	if st.Totals.Quarantined > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%d replication job(s) are quarantined: the remote refused them for good and they are not retried.\n", st.Totals.Quarantined)
		named := 0
		for _, j := range st.Failing {
			if j.Quarantined && named < maxNamed {
				fmt.Fprintf(&b, "- %s/%s: %s\n", j.Bucket, j.Key, j.LastError)
				named++
			}
		}
		b.WriteString("Fix the cause, then retry the jobs from the console's Uploads page.")
		out = append(out, Condition{KindQuarantined, fmt.Sprintf("%d replication job(s) quarantined", st.Totals.Quarantined), b.String()})
	}
	if op := st.Offsite.OldestPending; op != nil && now.Sub(*op) > th.OldestPending {
		out = append(out, Condition{KindOldestPending, fmt.Sprintf("an object has not been offsite for %s", age(now.Sub(*op))),
			fmt.Sprintf("The oldest object not on the remote yet was put %s (%s ago; the alert threshold is %s). %d object(s), %s, are waiting; replication is %s.",
				stamp(*op), age(now.Sub(*op)), age(th.OldestPending), st.Offsite.PendingObjects, humanize.Bytes(st.Offsite.PendingBytes), rep.State)})
	}
	if d := st.Disk; d != nil && d.TotalBytes > 0 {
		used := 100 * float64(d.TotalBytes-d.FreeBytes) / float64(d.TotalBytes)
		if used > th.DiskPercent {
			out = append(out, Condition{KindDiskFull, fmt.Sprintf("the data disk is %.0f%% full", used),
				fmt.Sprintf("%s holds %s of %s; %s are free (the alert threshold is %.0f%%). Free space, or add a disk, before writes are refused.",
					d.Path, humanize.Bytes(d.TotalBytes-d.FreeBytes), humanize.Bytes(d.TotalBytes), humanize.Bytes(d.FreeBytes), th.DiskPercent)})
		}
	}
	if c := corruption(st.Scrub); c != nil {
		out = append(out, *c)
	}
	if b := rep.Budget; b.Spent {
		resets := "at the start of next month"
		if b.Resets != nil {
			resets = stamp(*b.Resets)
		}
		out = append(out, Condition{KindBudgetSpent, "the monthly upload budget is spent",
			fmt.Sprintf("%s of the %s monthly budget are uploaded; uploads wait until %s. Raise replication.monthly_budget to upload sooner.",
				humanize.Bytes(b.Used), humanize.Bytes(b.Bytes), resets)})
	}
	return out
}

// corruption is the scrub's condition: the pass in progress or, else, the
// last one found corrupt blobs. A later pass that finds none clears it.
func corruption(s *admin.Scrub) *Condition {
	if s == nil {
		return nil
	}
	run := s.Last
	if s.Running != nil && s.Running.Corrupt > 0 {
		run = s.Running
	}
	if run == nil || run.Corrupt == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A scrub that started %s found %d corrupt blob(s) on the data disk; %d repaired from the remote, %d not repairable.\n",
		stamp(run.Started), run.Corrupt, run.Repaired, run.UnrepairableCount)
	for i, p := range run.Unrepairable {
		if i == maxNamed {
			break
		}
		fmt.Fprintf(&b, "- %s: %s\n", p.Object, p.Reason)
	}
	b.WriteString("A disk that corrupts data is failing: check it (SMART, dmesg) and plan to replace it.")
	return &Condition{KindCorruption, fmt.Sprintf("a scrub found %d corrupt blob(s)", run.Corrupt), b.String()}
}

func remoteName(r admin.Remote) string {
	s := r.Endpoint + " bucket " + r.Bucket
	if r.Local {
		s += " (the built-in local copy)"
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// age is a duration as a person says it: 26h, 3d4h, 12m, 40s.
func age(d time.Duration) string {
	switch {
	case d >= 72*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}
