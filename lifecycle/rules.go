package lifecycle

import (
	"slices"
	"strings"
	"time"
)

// day is S3's lifecycle day; S3 counts days to the midnight UTC that follows.
const day = 24 * time.Hour

// Due is when an action of days days counted from t applies: t plus days,
// rounded up to the next midnight UTC, as S3 counts.
func Due(t time.Time, days int) time.Time {
	due := t.Add(time.Duration(days) * day).UTC()
	midnight := due.Truncate(day) // Unix time 0 is a midnight UTC
	if midnight.Equal(due) {
		return due
	}
	return midnight.Add(day)
}

// Version is one version of a key as the rules see it.
type Version struct {
	ID           string
	Time         time.Time // when it was written: its LastModified
	DeleteMarker bool
}

// matching returns the enabled rules that apply to key.
func (c *Configuration) matching(key string) []*Rule {
	var out []*Rule
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Enabled() && strings.HasPrefix(key, r.KeyPrefix()) {
			out = append(out, r)
		}
	}
	return out
}

// Expire returns the versions of key that the enabled rules remove at now,
// given all its versions newest first (versions[0] is the current one).
//
// A noncurrent version is removed when a rule's NoncurrentDays have passed
// since it became noncurrent (when its successor was written) and at least
// NewerNoncurrentVersions newer noncurrent versions remain. A current delete
// marker is removed when a rule says ExpiredObjectDeleteMarker and no other
// version is left. When several rules apply, the one that removes a version
// first wins, as in S3.
func (c *Configuration) Expire(key string, versions []Version, now time.Time) []Version {
	rules := c.matching(key)
	if len(rules) == 0 || len(versions) == 0 {
		return nil
	}
	var out []Version
	for i := 1; i < len(versions); i++ {
		newer := i - 1 // noncurrent versions newer than this one
		for _, r := range rules {
			if e := r.NoncurrentVersionExpiration; e != nil && newer >= e.keep() &&
				!now.Before(Due(versions[i-1].Time, e.NoncurrentDays)) {
				out = append(out, versions[i])
				break
			}
		}
	}
	if versions[0].DeleteMarker && len(out) == len(versions)-1 {
		for _, r := range rules {
			if e := r.Expiration; e != nil && e.ExpiredObjectDeleteMarker != nil && *e.ExpiredObjectDeleteMarker {
				out = append(out, versions[0])
				break
			}
		}
	}
	return out
}

// keep is how many noncurrent versions the action keeps whatever their age.
func (e *NoncurrentVersionExpiration) keep() int {
	if e.NewerNoncurrentVersions == nil {
		return 0
	}
	return *e.NewerNoncurrentVersions
}

// AbortAfter returns the fewest DaysAfterInitiation of the enabled rules
// that apply to an upload of key (ok false: none does).
func (c *Configuration) AbortAfter(key string) (days int, ok bool) {
	for _, r := range c.matching(key) {
		if a := r.AbortIncompleteMultipartUpload; a != nil && (!ok || a.DaysAfterInitiation < days) {
			days, ok = a.DaysAfterInitiation, true
		}
	}
	return days, ok
}

// prefixes returns the fewest key prefixes that cover the keys of the
// enabled rules that want (every key, [""], when one of them has no prefix),
// so that the pass reads only what a rule may act on.
func (c *Configuration) prefixes(want func(*Rule) bool) []string {
	var all []string
	for i := range c.Rules {
		if r := &c.Rules[i]; r.Enabled() && want(r) {
			all = append(all, r.KeyPrefix())
		}
	}
	slices.Sort(all)
	var out []string
	for _, p := range all {
		if len(out) == 0 || !strings.HasPrefix(p, out[len(out)-1]) {
			out = append(out, p)
		}
	}
	return out
}

// versionPrefixes covers the keys whose versions a rule may remove.
func (c *Configuration) versionPrefixes() []string {
	return c.prefixes(func(r *Rule) bool {
		return r.NoncurrentVersionExpiration != nil ||
			(r.Expiration != nil && r.Expiration.ExpiredObjectDeleteMarker != nil && *r.Expiration.ExpiredObjectDeleteMarker)
	})
}

// uploadPrefixes covers the keys whose uploads a rule may abort.
func (c *Configuration) uploadPrefixes() []string {
	return c.prefixes(func(r *Rule) bool { return r.AbortIncompleteMultipartUpload != nil })
}
