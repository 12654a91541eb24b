package alert

import (
	"fmt"
	"time"
)

// Defaults of Config.
const (
	// DefaultInterval is the time between two checks of the conditions.
	DefaultInterval = time.Minute
	// DefaultOldestPending: an object not offsite after a day is an alert.
	DefaultOldestPending = 24 * time.Hour
	// DefaultDiskPercent: a data disk more than 90% full is an alert.
	DefaultDiskPercent = 90
	// DefaultUnreachable: a remote unreachable for an hour has stopped
	// replication (short cuts of a home uplink are not worth a message).
	DefaultUnreachable = time.Hour
	// DefaultReminder is the time between two notices of an alert that holds.
	DefaultReminder = 24 * time.Hour
	// DefaultResolveAfter is how long a condition must stay clear to be
	// announced as resolved.
	DefaultResolveAfter = 5 * time.Minute
	// DefaultSendTimeout bounds one delivery.
	DefaultSendTimeout = 30 * time.Second
	// DefaultMaxAttempts is how many checks in a row a failed delivery is
	// retried at before it is given up (about an hour at DefaultInterval).
	DefaultMaxAttempts = 60
	// maxOutbox bounds the notices waiting for a channel that is down.
	maxOutbox = 100
)

// Config is the alerts section of the daemon's configuration.
type Config struct {
	Interval      time.Duration `yaml:"interval"`
	OldestPending time.Duration `yaml:"oldest_pending"`
	DiskPercent   float64       `yaml:"disk_percent"`
	// RemoteUnreachable is how long the remote may be unreachable before
	// it is an alert.
	RemoteUnreachable time.Duration   `yaml:"remote_unreachable"`
	Reminder          time.Duration   `yaml:"reminder"`
	ResolveAfter      time.Duration   `yaml:"resolve_after"`
	Webhooks          []WebhookConfig `yaml:"webhooks"`
	Email             EmailConfig     `yaml:"email"`
}

// DefaultConfig returns the defaults: every check on, no channel.
func DefaultConfig() Config {
	return Config{
		Interval:          DefaultInterval,
		OldestPending:     DefaultOldestPending,
		DiskPercent:       DefaultDiskPercent,
		RemoteUnreachable: DefaultUnreachable,
		Reminder:          DefaultReminder,
		ResolveAfter:      DefaultResolveAfter,
	}
}

// FieldError names the bad field of the alerts section (relative to it,
// e.g. "webhooks[0].url") and says how to fix it.
type FieldError struct {
	Field   string
	Problem string
	Fix     string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s; %s", e.Field, e.Problem, e.Fix)
}

// Validate returns the first bad field as a *FieldError.
func (c Config) Validate() error {
	positive := []struct {
		field string
		d     time.Duration
		eg    string
	}{
		{"interval", c.Interval, "1m"}, {"oldest_pending", c.OldestPending, "24h"},
		{"remote_unreachable", c.RemoteUnreachable, "1h"}, {"reminder", c.Reminder, "24h"},
	}
	for _, p := range positive {
		if p.d <= 0 {
			return &FieldError{p.field, fmt.Sprintf("%s is not positive", p.d), "use a duration such as " + p.eg}
		}
	}
	if c.ResolveAfter < 0 {
		return &FieldError{"resolve_after", "is negative", "use a duration such as 5m, or 0 to resolve at the first clear check"}
	}
	if c.DiskPercent <= 0 || c.DiskPercent > 100 {
		return &FieldError{"disk_percent", fmt.Sprintf("%g is not a percentage", c.DiskPercent), "use a number from 1 to 100, e.g. 90"}
	}
	for i, w := range c.Webhooks {
		if err := w.validate(fmt.Sprintf("webhooks[%d]", i)); err != nil {
			return err
		}
	}
	if c.Email.configured() {
		return c.Email.validate("email")
	}
	return nil
}

func (c Config) thresholds() Thresholds {
	return Thresholds{OldestPending: c.OldestPending, DiskPercent: c.DiskPercent, Unreachable: c.RemoteUnreachable}
}
