package alert

import (
	"cmp"
	"slices"
	"time"
)

// Events of a Notice.
const (
	EventFiring   = "firing"   // the condition appeared
	EventReminder = "reminder" // it still holds, Reminder after the last notice
	EventResolved = "resolved" // it has been clear for ResolveAfter
	EventTest     = "test"     // `gateway alert test`
)

// Notice is one message to send.
type Notice struct {
	Event   string    `json:"event"`
	Kind    string    `json:"alert"`
	Summary string    `json:"summary"`
	Detail  string    `json:"detail"`
	Since   time.Time `json:"since"` // when the condition appeared
	Time    time.Time `json:"time"`  // when the notice was made
	Host    string    `json:"host"`
}

// Active is a condition the Tracker follows: it was announced and has not
// been resolved. It is also the Tracker's saved state.
type Active struct {
	Condition
	Since    time.Time `json:"since"`
	Notified time.Time `json:"notified"`
	// ClearSince is when the condition was first seen gone; zero while it holds.
	ClearSince time.Time `json:"clear_since,omitzero"`
}

// Tracker is the state machine of the alerts: which conditions were
// announced, and when to remind or resolve them. It is not safe for
// concurrent use; the Notifier serialises it.
type Tracker struct {
	// Reminder is the time between two notices of a condition that holds.
	Reminder time.Duration
	// ResolveAfter is how long a condition must stay clear to be resolved;
	// one that comes back sooner goes on as the same alert.
	ResolveAfter time.Duration

	active map[string]*Active
}

// NewTracker returns a Tracker that goes on from saved (nil: nothing
// announced yet).
func NewTracker(reminder, resolveAfter time.Duration, saved []Active) *Tracker {
	t := &Tracker{Reminder: reminder, ResolveAfter: resolveAfter, active: map[string]*Active{}}
	for _, a := range saved {
		t.active[a.Kind] = &a
	}
	return t
}

// Update takes the conditions that hold at now and returns the notices
// they call for, in kind order, and whether the state changed.
func (t *Tracker) Update(now time.Time, holding []Condition) (notices []Notice, changed bool) {
	seen := map[string]bool{}
	for _, c := range holding {
		seen[c.Kind] = true
		a, ok := t.active[c.Kind]
		switch {
		case !ok:
			a = &Active{Condition: c, Since: now, Notified: now}
			t.active[c.Kind] = a
			notices = append(notices, a.notice(EventFiring, now))
			changed = true
		case now.Sub(a.Notified) >= t.Reminder:
			a.Condition, a.ClearSince, a.Notified = c, time.Time{}, now
			notices = append(notices, a.notice(EventReminder, now))
			changed = true
		default:
			changed = changed || !a.ClearSince.IsZero() || a.Condition != c
			a.Condition, a.ClearSince = c, time.Time{}
		}
	}
	for kind, a := range t.active {
		if seen[kind] {
			continue
		}
		if a.ClearSince.IsZero() {
			a.ClearSince = now
			changed = true
		}
		if now.Sub(a.ClearSince) >= t.ResolveAfter {
			delete(t.active, kind)
			notices = append(notices, a.notice(EventResolved, now))
			changed = true
		}
	}
	slices.SortFunc(notices, func(a, b Notice) int { return cmp.Compare(a.Kind, b.Kind) })
	return notices, changed
}

// Active returns the conditions announced and not resolved, oldest first.
func (t *Tracker) Active() []Active {
	out := make([]Active, 0, len(t.active))
	for _, a := range t.active {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Active) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return out
}

func (a *Active) notice(event string, now time.Time) Notice {
	return Notice{Event: event, Kind: a.Kind, Summary: a.Summary, Detail: a.Detail, Since: a.Since, Time: now}
}
