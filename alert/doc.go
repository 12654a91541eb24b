// Package alert tells a human when the archive needs one: replication
// stopped on an error, a quarantined job, an object not offsite for too
// long, a full disk, corruption found by a scrub, a spent monthly budget.
//
// Evaluate reads the conditions from the same admin.Status that the console,
// `gateway status` and the metrics show, so an alert never disagrees with
// what the user then looks at. A Tracker turns the conditions seen at each
// check into notices: a condition is announced once when it appears, again
// every Reminder (a day) while it holds, and once more as resolved when it
// has stayed clear for ResolveAfter (which keeps a value hovering at its
// threshold from sending a notice at every check). The Notifier runs the
// checks, keeps the Tracker's state in a StateStore (so a restart neither
// repeats nor forgets an alert) and delivers each notice to every Channel,
// retrying a channel that failed at the next checks: a webhook (JSON,
// ntfy or Gotify) and email over SMTP.
package alert
