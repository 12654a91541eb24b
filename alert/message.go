package alert

import "fmt"

// Title is the notice in one line: a push notification's title, an email's
// subject.
func (n Notice) Title() string {
	switch n.Event {
	case EventResolved:
		return fmt.Sprintf("IPAS %s: resolved: %s", n.Host, n.Summary)
	case EventReminder:
		return fmt.Sprintf("IPAS %s: still: %s", n.Host, n.Summary)
	}
	return fmt.Sprintf("IPAS %s: %s", n.Host, n.Summary)
}

// Message is the notice's text: what happened, since when, and what to do.
func (n Notice) Message() string {
	switch n.Event {
	case EventResolved:
		return fmt.Sprintf("Resolved at %s, after %s: %s.\n\nIt was: %s", stamp(n.Time), age(n.Time.Sub(n.Since)), n.Summary, n.Detail)
	case EventReminder:
		return fmt.Sprintf("Still the case since %s (%s), reminded daily until it clears.\n\n%s", stamp(n.Since), age(n.Time.Sub(n.Since)), n.Detail)
	case EventTest:
		return n.Detail
	}
	return fmt.Sprintf("Since %s.\n\n%s", stamp(n.Since), n.Detail)
}

// Priority is the notice's urgency from 1 (least) to 5, as ntfy counts:
// a new alert is urgent, a reminder less, a resolution least.
func (n Notice) Priority() int {
	switch n.Event {
	case EventFiring:
		return 4
	case EventReminder, EventTest:
		return 3
	}
	return 2
}
