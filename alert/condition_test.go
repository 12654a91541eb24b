package alert

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/admin"
)

func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	th := Thresholds{OldestPending: 24 * time.Hour, DiskPercent: 90, Unreachable: time.Hour}
	healthy := func() admin.Status {
		return admin.Status{Time: now, Replication: admin.Replication{State: admin.StateRunning},
			Offsite: admin.Offsite{OldestPending: ago(time.Hour)},
			Disk:    &admin.Disk{Path: "/data", TotalBytes: 100 << 30, FreeBytes: 50 << 30},
			Scrub:   &admin.Scrub{Last: &admin.ScrubRun{Blobs: 10}}}
	}
	cases := []struct {
		name   string
		change func(*admin.Status)
		want   []string
		detail string // in the first condition's Detail
	}{
		{"healthy", func(*admin.Status) {}, nil, ""},
		{"refused", func(s *admin.Status) {
			s.Replication.State, s.Replication.Error = admin.StateError, "InvalidAccessKeyId: the key is unknown"
		}, []string{KindReplicationStopped}, "InvalidAccessKeyId"},
		{"unreachable briefly", func(s *admin.Status) {
			s.Replication.State, s.Replication.UnreachableSince = admin.StateUnreachable, ago(10*time.Minute)
		}, nil, ""},
		{"unreachable for long", func(s *admin.Status) {
			s.Replication.State, s.Replication.UnreachableSince, s.Replication.LastError = admin.StateUnreachable, ago(2*time.Hour), "dial tcp: connection refused"
		}, []string{KindReplicationStopped}, "connection refused"},
		{"quarantined", func(s *admin.Status) {
			s.Totals.Quarantined = 1
			s.Failing = []admin.Job{{Bucket: "photos", Key: "a.jpg", Quarantined: true, LastError: "EntityTooLarge"}}
		}, []string{KindQuarantined}, "photos/a.jpg: EntityTooLarge"},
		{"old pending", func(s *admin.Status) { s.Offsite.OldestPending = ago(25 * time.Hour) }, []string{KindOldestPending}, "25h ago"},
		{"disk at 90% is not over", func(s *admin.Status) { s.Disk.FreeBytes = 10 << 30 }, nil, ""},
		{"disk over 90%", func(s *admin.Status) { s.Disk.FreeBytes = 5 << 30 }, []string{KindDiskFull}, "5.0 GiB are free"},
		{"scrub corruption", func(s *admin.Status) {
			s.Scrub.Last.Corrupt, s.Scrub.Last.Repaired = 2, 1
			s.Scrub.Last.UnrepairableCount = 1
			s.Scrub.Last.Unrepairable = []admin.ScrubProblem{{Object: "b/k", Reason: "not offsite yet"}}
		}, []string{KindCorruption}, "b/k: not offsite yet"},
		{"corruption found by the running pass", func(s *admin.Status) {
			s.Scrub.Running = &admin.ScrubRun{Corrupt: 1}
		}, []string{KindCorruption}, "1 corrupt"},
		{"budget spent", func(s *admin.Status) {
			s.Replication.Budget = admin.Budget{Bytes: 10 << 30, Used: 10 << 30, Spent: true}
		}, []string{KindBudgetSpent}, "10.0 GiB"},
		{"several", func(s *admin.Status) {
			s.Replication.State = admin.StateError
			s.Offsite.OldestPending = ago(48 * time.Hour)
			s.Disk.FreeBytes = 0
		}, []string{KindReplicationStopped, KindOldestPending, KindDiskFull}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := healthy()
			tc.change(&st)
			got := Evaluate(st, th)
			var kinds []string
			for _, c := range got {
				kinds = append(kinds, c.Kind)
				if c.Summary == "" || c.Detail == "" {
					t.Errorf("%s: empty summary or detail: %+v", c.Kind, c)
				}
			}
			if !reflect.DeepEqual(kinds, tc.want) {
				t.Fatalf("conditions %v, want %v", kinds, tc.want)
			}
			if tc.detail != "" && !strings.Contains(got[0].Summary+" "+got[0].Detail, tc.detail) {
				t.Errorf("%s does not say %q:\n%s\n%s", got[0].Kind, tc.detail, got[0].Summary, got[0].Detail)
			}
		})
	}
}
