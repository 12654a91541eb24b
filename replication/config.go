package replication

import (
	"fmt"
	"strings"
	"time"
)

// Defaults for Config.
const (
	// DefaultObjects is how many large objects (multipart uploads) upload
	// at once.
	DefaultObjects = 2
	// DefaultSmallObjects is how many objects below the multipart threshold
	// (and deletes) are in flight at once, besides the large ones: a small
	// object costs a round trip more than its bytes, so only many in
	// flight fill a link (16 keep a loopback remote's 2 cores busy and
	// cover a 50 ms round trip at 300 objects/s).
	DefaultSmallObjects = 16
	// DefaultParts is how many parts (of all multipart uploads) are in flight at once.
	DefaultParts = 4
	// DefaultMultipartThreshold: objects at least this large go up as multipart uploads.
	DefaultMultipartThreshold = 16 << 20
	// DefaultBackoffMin and DefaultBackoffMax bound the wait between attempts
	// of a failing job; it doubles (with jitter) up to the cap, for ever.
	DefaultBackoffMin = time.Second
	DefaultBackoffMax = 5 * time.Minute
	// DefaultProbeInterval is how often a paused replication checks whether
	// the remote accepts writes again.
	DefaultProbeInterval = 30 * time.Second
	// DefaultStallTimeout cancels a request whose body has not moved for
	// this long (a black-holed connection); it is retried on a new one.
	DefaultStallTimeout = 60 * time.Second
	// DefaultPollInterval is how often a journal that does not signal new
	// jobs (JobSignal) is asked for them; the raft journal signals.
	DefaultPollInterval = time.Second
	// DefaultScanLimit bounds the jobs the replicator indexes in memory:
	// priorities and lanes are applied within the oldest DefaultScanLimit
	// jobs.
	DefaultScanLimit = 10000
	// DefaultOrphanInterval is how often unowned multipart uploads are looked for.
	DefaultOrphanInterval = time.Hour
	// DefaultOrphanMinAge protects uploads that another process started a
	// moment ago (a journal write in flight) from the orphan sweep.
	DefaultOrphanMinAge = time.Hour
	// DefaultUnreachableAfter is how long every attempt must have failed,
	// without a byte confirmed by the remote, before status reports the
	// remote as unreachable rather than replication as running.
	DefaultUnreachableAfter = 2 * time.Minute
	// DefaultPartRetries is how often a part is retried in place before its
	// job is journaled as failed and backs off.
	DefaultPartRetries = 3
)

// Delete policies per bucket.
const (
	// PolicyArchive keeps everything on the remote: local deletes are not
	// propagated. On an unversioned remote an overwrite replaces the remote
	// copy; enable versioning on the remote bucket to keep old versions.
	PolicyArchive = "archive"
	// PolicyMirror propagates deletes.
	PolicyMirror = "mirror"
)

// Config tunes the Replicator.
type Config struct {
	Objects            int           `yaml:"objects"`
	SmallObjects       int           `yaml:"small_objects"`
	Parts              int           `yaml:"parts"`
	PartSize           int64         `yaml:"part_size"`
	MultipartThreshold int64         `yaml:"multipart_threshold"`
	BackoffMin         time.Duration `yaml:"backoff_min"`
	BackoffMax         time.Duration `yaml:"backoff_max"`
	ProbeInterval      time.Duration `yaml:"probe_interval"`
	StallTimeout       time.Duration `yaml:"stall_timeout"`
	PollInterval       time.Duration `yaml:"poll_interval"`
	ScanLimit          int           `yaml:"scan_limit"`
	OrphanInterval     time.Duration `yaml:"orphan_interval"`
	OrphanMinAge       time.Duration `yaml:"orphan_min_age"`
	PartRetries        int           `yaml:"part_retries"`
	UnreachableAfter   time.Duration `yaml:"unreachable_after"`
	// Policies maps a local bucket to PolicyArchive (default) or PolicyMirror.
	Policies map[string]string `yaml:"policies"`
	// Priorities are "bucket" or "bucket/prefix" patterns; jobs matching an
	// earlier pattern go first, unmatched jobs last, oldest first within each.
	Priorities []string `yaml:"priorities"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Objects:            DefaultObjects,
		SmallObjects:       DefaultSmallObjects,
		Parts:              DefaultParts,
		PartSize:           DefaultPartSize,
		MultipartThreshold: DefaultMultipartThreshold,
		BackoffMin:         DefaultBackoffMin,
		BackoffMax:         DefaultBackoffMax,
		ProbeInterval:      DefaultProbeInterval,
		StallTimeout:       DefaultStallTimeout,
		PollInterval:       DefaultPollInterval,
		ScanLimit:          DefaultScanLimit,
		OrphanInterval:     DefaultOrphanInterval,
		OrphanMinAge:       DefaultOrphanMinAge,
		PartRetries:        DefaultPartRetries,
		UnreachableAfter:   DefaultUnreachableAfter,
	}
}

// Validate names the first bad field and how to fix it.
func (c Config) Validate() error {
	switch {
	case c.Objects < 1:
		return fmt.Errorf("replication: objects %d: at least 1 (default %d)", c.Objects, DefaultObjects)
	case c.SmallObjects < 1:
		return fmt.Errorf("replication: small_objects %d: at least 1 (default %d)", c.SmallObjects, DefaultSmallObjects)
	case c.Parts < 1:
		return fmt.Errorf("replication: parts %d: at least 1 (default %d)", c.Parts, DefaultParts)
	case c.PartSize < MinPartSize:
		return fmt.Errorf("replication: part_size %d: at least %d (5 MiB), S3's minimum", c.PartSize, MinPartSize)
	case c.MultipartThreshold < 1:
		return fmt.Errorf("replication: multipart_threshold %d: must be positive (default %d)", c.MultipartThreshold, DefaultMultipartThreshold)
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("replication: backoff_min %s and backoff_max %s: need 0 < min <= max", c.BackoffMin, c.BackoffMax)
	case c.ProbeInterval <= 0 || c.StallTimeout <= 0 || c.PollInterval <= 0 || c.OrphanInterval <= 0:
		return fmt.Errorf("replication: probe_interval, stall_timeout, poll_interval and orphan_interval must be positive")
	case c.UnreachableAfter <= 0:
		return fmt.Errorf("replication: unreachable_after %s: must be positive (default %s)", c.UnreachableAfter, DefaultUnreachableAfter)
	case c.ScanLimit < 1:
		return fmt.Errorf("replication: scan_limit %d: at least 1 (default %d)", c.ScanLimit, DefaultScanLimit)
	}
	for b, p := range c.Policies {
		if p != PolicyArchive && p != PolicyMirror {
			return fmt.Errorf("replication: policy %q for bucket %s: use %q or %q", p, b, PolicyArchive, PolicyMirror)
		}
	}
	return nil
}

// Requests is the most requests replication has in flight at once: a
// connection pool of this size lets every one reuse a connection.
func (c Config) Requests() int { return c.SmallObjects + c.Objects + c.Parts }

// priority ranks a job: lower goes first.
func (c *Config) priority(bucket, key string) int {
	name := bucket + "/" + key
	for i, p := range c.Priorities {
		if p == bucket || strings.HasPrefix(name, strings.TrimSuffix(p, "/")+"/") || (strings.Contains(p, "/") && strings.HasPrefix(name, p)) {
			return i
		}
	}
	return len(c.Priorities)
}

func (c *Config) policy(bucket string) string {
	if p := c.Policies[bucket]; p != "" {
		return p
	}
	return PolicyArchive
}
