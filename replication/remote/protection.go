package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/ipas/ipas/replication"
)

// Versioning states of the remote bucket, as GetBucketVersioning reports
// them; VersioningOff is a bucket whose versioning was never enabled.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
	VersioningOff       = "off"
)

// Protection is what the remote bucket itself does to keep old data: its
// versioning and its Object Lock configuration.
type Protection struct {
	Versioning string // VersioningEnabled, VersioningSuspended or VersioningOff
	// Lock is true when the bucket has Object Lock enabled; LockMode
	// (COMPLIANCE or GOVERNANCE) and LockDays/LockYears are its default
	// retention, empty and zero when there is none.
	Lock      bool
	LockMode  string
	LockDays  int32
	LockYears int32
	// LockErr is why the Object Lock configuration could not be read
	// (denied, not implemented); nil when it was read or does not exist.
	LockErr error
}

// Versioned reports whether the remote keeps every version it is sent.
func (p Protection) Versioned() bool { return p.Versioning == VersioningEnabled }

// Protection reads the remote bucket's versioning and Object Lock
// configuration, and caches the versioning for Versioned.
func (c *Client) Protection(ctx context.Context) (Protection, error) {
	v, err := c.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(c.cfg.Bucket)})
	if err != nil {
		return Protection{}, classify("get bucket versioning", c.cfg.Bucket, err)
	}
	p := Protection{Versioning: VersioningOff}
	if v.Status != "" {
		p.Versioning = string(v.Status)
	}
	c.versioning.set(p.Versioned())
	lock, err := c.s3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(c.cfg.Bucket)})
	var api smithy.APIError
	switch {
	case err == nil && lock.ObjectLockConfiguration != nil:
		cfg := lock.ObjectLockConfiguration
		p.Lock = cfg.ObjectLockEnabled == types.ObjectLockEnabledEnabled
		if r := cfg.Rule; r != nil && r.DefaultRetention != nil {
			p.LockMode = string(r.DefaultRetention.Mode)
			p.LockDays = aws.ToInt32(r.DefaultRetention.Days)
			p.LockYears = aws.ToInt32(r.DefaultRetention.Years)
		}
	case err == nil:
	case errors.As(err, &api) && api.ErrorCode() == "ObjectLockConfigurationNotFoundError":
	default:
		p.LockErr = classify("get object lock configuration", c.cfg.Bucket, err)
	}
	return p, nil
}

// VersioningRecheck is how long Versioned trusts what it read: a remote
// whose versioning is suspended while the daemon runs gets the versions in
// the versions directory from then on.
const VersioningRecheck = time.Hour

// Versioned reports whether the remote bucket's versioning is Enabled, as
// Protection or Versioned last read it, within VersioningRecheck; else it
// reads it (one request). Replication asks it for every version of a
// versioned bucket.
func (c *Client) Versioned(ctx context.Context) (bool, error) {
	if v, ok := c.versioning.get(); ok {
		return v, nil
	}
	v, err := c.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(c.cfg.Bucket)})
	err = classify("get bucket versioning", c.cfg.Bucket, err)
	switch {
	case errors.Is(err, replication.ErrRemoteRefused):
		// A key that may not read the versioning (or a server without
		// it) replicates as to an unversioned remote, which is correct
		// on any remote.
		c.log.Warn().Err(err).Msg("cannot read the remote bucket's versioning: versions go under the versions prefix")
		c.versioning.set(false)
		return false, nil
	case err != nil:
		return false, err
	}
	on := v.Status == types.BucketVersioningStatusEnabled
	c.versioning.set(on)
	return on, nil
}

// versioningCache holds the remote bucket's versioning once read.
type versioningCache struct {
	mu sync.Mutex
	at time.Time // when it was read; zero: never
	on bool
}

func (v *versioningCache) get() (on, known bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.on, !v.at.IsZero() && time.Since(v.at) < VersioningRecheck
}

func (v *versioningCache) set(on bool) {
	v.mu.Lock()
	v.on, v.at = on, time.Now()
	v.mu.Unlock()
}

// protectionSteps are the Check lines that say what the remote bucket's
// versioning and Object Lock mean for the archive. Neither fails the
// check: replication works without them, but the archive is only as safe
// as IPAS's key then.
func protectionSteps(p Protection) []Step {
	ver := Step{Name: "remote versioning", OK: true}
	switch p.Versioning {
	case VersioningEnabled:
		ver.Detail = "Enabled: the remote keeps every version IPAS sends; an overwrite or a delete, even with IPAS's own key, " +
			"leaves the older versions in place (unless that key may delete versions: deny it s3:DeleteObjectVersion, or use Object Lock)"
	case VersioningSuspended:
		ver.Warn = true
		ver.Detail = "Suspended: an overwrite on the remote replaces the object; IPAS keeps the versions of versioned buckets " +
			"under " + controlDir + "versions/, but a compromised IPAS key can overwrite or delete them: enable versioning on the remote bucket"
	default:
		ver.Warn = true
		ver.Detail = "off: the remote keeps one copy of each key; IPAS keeps the versions of versioned buckets " +
			"under " + controlDir + "versions/, but a compromised IPAS key can overwrite or delete them: enable versioning " +
			"(aws s3api put-bucket-versioning --bucket B --versioning-configuration Status=Enabled), or better Object Lock (README)"
	}
	lock := Step{Name: "object lock", OK: true}
	switch {
	case p.LockErr != nil:
		lock.Warn = true
		lock.Detail = "cannot read the Object Lock configuration (" + p.LockErr.Error() + ")"
	case p.Lock && p.LockMode != "":
		lock.Detail = fmt.Sprintf("%s, default retention %s: the strongest setting; no key, not even IPAS's, can delete "+
			"or overwrite a version before its retention ends", p.LockMode, retention(p.LockDays, p.LockYears))
		if p.LockMode == string(types.ObjectLockRetentionModeGovernance) {
			lock.Detail += " (GOVERNANCE: except a key allowed s3:BypassGovernanceRetention)"
		}
	case p.Lock:
		lock.Warn = true
		lock.Detail = "enabled without a default retention: IPAS sets no retention of its own, so nothing is locked; " +
			"add one (aws s3api put-object-lock-configuration, README)"
	default:
		lock.Detail = "none (Object Lock with a default retention is the strongest setting: README, \"Object Lock on the remote\")"
	}
	return []Step{ver, lock}
}

func retention(days, years int32) string {
	switch {
	case years == 1:
		return "1 year"
	case years > 1:
		return fmt.Sprintf("%d years", years)
	case days == 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}

// deleteProbe removes Check's test object. On a bucket that has (or had)
// versioning a plain DELETE would only add a delete marker, so every
// version and marker of the key is deleted by its version ID.
func (c *Client) deleteProbe(ctx context.Context, name string, versions bool) error {
	if !versions {
		return c.DeleteObject(ctx, name)
	}
	key := c.Key(name)
	out, err := c.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(c.cfg.Bucket), Prefix: aws.String(key)})
	if err != nil {
		return classify("list versions", name, err)
	}
	ids := make([]*string, 0, len(out.Versions)+len(out.DeleteMarkers))
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			ids = append(ids, v.VersionId)
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == key {
			ids = append(ids, m.VersionId)
		}
	}
	for _, id := range ids {
		if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.cfg.Bucket), Key: aws.String(key), VersionId: id}); err != nil {
			return classify("delete version", name, err)
		}
	}
	return nil
}
