package alert

import (
	"reflect"
	"testing"
	"time"
)

// TestTracker walks the state machine with a fake clock: once, a daily
// reminder, resolved after staying clear, and no resolution for a flap.
func TestTracker(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	disk := Condition{Kind: KindDiskFull, Summary: "the data disk is 91% full"}
	disk2 := Condition{Kind: KindDiskFull, Summary: "the data disk is 95% full"}
	old := Condition{Kind: KindOldestPending, Summary: "an object has not been offsite for 25h"}
	type step struct {
		at      time.Duration
		holding []Condition
		want    []string // event:kind
		active  int
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"once, then quiet", []step{
			{0, []Condition{disk}, []string{"firing:disk-full"}, 1},
			{time.Minute, []Condition{disk}, nil, 1},
			{23 * time.Hour, []Condition{disk2}, nil, 1},
		}},
		{"daily reminder with the latest summary", []step{
			{0, []Condition{disk}, []string{"firing:disk-full"}, 1},
			{24 * time.Hour, []Condition{disk2}, []string{"reminder:disk-full"}, 1},
			{47 * time.Hour, []Condition{disk2}, nil, 1},
			{48 * time.Hour, []Condition{disk2}, []string{"reminder:disk-full"}, 1},
		}},
		{"resolved after staying clear", []step{
			{0, []Condition{disk}, []string{"firing:disk-full"}, 1},
			{time.Minute, nil, nil, 1},
			{5 * time.Minute, nil, nil, 1},
			{6 * time.Minute, nil, []string{"resolved:disk-full"}, 0},
			{7 * time.Minute, nil, nil, 0},
		}},
		{"a flap is one alert", []step{
			{0, []Condition{disk}, []string{"firing:disk-full"}, 1},
			{time.Minute, nil, nil, 1},
			{3 * time.Minute, []Condition{disk}, nil, 1},
			{4 * time.Minute, nil, nil, 1},
			{8 * time.Minute, nil, nil, 1},
			{9 * time.Minute, nil, []string{"resolved:disk-full"}, 0},
		}},
		{"fires again after a resolution", []step{
			{0, []Condition{disk}, []string{"firing:disk-full"}, 1},
			{time.Minute, nil, nil, 1},
			{6 * time.Minute, nil, []string{"resolved:disk-full"}, 0},
			{7 * time.Minute, []Condition{disk}, []string{"firing:disk-full"}, 1},
		}},
		{"kinds are independent", []step{
			{0, []Condition{disk}, []string{"firing:disk-full"}, 1},
			{time.Hour, []Condition{old, disk}, []string{"firing:oldest-pending"}, 2},
			{2 * time.Hour, []Condition{old}, nil, 2},
			{3 * time.Hour, []Condition{old}, []string{"resolved:disk-full"}, 1},
			{24 * time.Hour, []Condition{old}, nil, 1},
			{25 * time.Hour, []Condition{old}, []string{"reminder:oldest-pending"}, 1},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(24*time.Hour, 5*time.Minute, nil)
			for i, s := range tc.steps {
				notices, _ := tr.Update(t0.Add(s.at), s.holding)
				var got []string
				for _, n := range notices {
					got = append(got, n.Event+":"+n.Kind)
					if !n.Since.Equal(t0) && n.Kind == KindDiskFull && tc.name != "fires again after a resolution" {
						t.Errorf("step %d: %s since %s, want the first firing %s", i, n.Kind, n.Since, t0)
					}
				}
				if !reflect.DeepEqual(got, s.want) {
					t.Errorf("step %d (+%s): notices %v, want %v", i, s.at, got, s.want)
				}
				if len(tr.Active()) != s.active {
					t.Errorf("step %d: %d active, want %d", i, len(tr.Active()), s.active)
				}
			}
		})
	}
}

// TestTracker_Restored: a restart with the saved state neither repeats an
// alert that holds nor forgets one that cleared meanwhile.
func TestTracker_Restored(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	disk := Condition{Kind: KindDiskFull, Summary: "full"}
	old := Condition{Kind: KindOldestPending, Summary: "old"}
	tr := NewTracker(24*time.Hour, 0, nil)
	tr.Update(t0, []Condition{disk, old})
	saved := tr.Active()

	again := NewTracker(24*time.Hour, 0, saved)
	notices, _ := again.Update(t0.Add(time.Hour), []Condition{disk})
	if len(notices) != 1 || notices[0].Event != EventResolved || notices[0].Kind != KindOldestPending {
		t.Fatalf("after a restart: %+v, want only the resolution of oldest-pending", notices)
	}
	notices, _ = again.Update(t0.Add(24*time.Hour), []Condition{disk})
	if len(notices) != 1 || notices[0].Event != EventReminder {
		t.Fatalf("a day after the first notice: %+v, want a reminder", notices)
	}
}
