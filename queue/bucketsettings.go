package queue

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Names of bucket settings, the S3 configurations a bucket carries.
const (
	// SettingCORS is the bucket's CORS configuration (PutBucketCors).
	SettingCORS = "cors"
	// SettingTagging is the bucket's tag set (PutBucketTagging).
	SettingTagging = "tagging"
	// SettingLifecycle is the bucket's lifecycle configuration
	// (PutBucketLifecycleConfiguration).
	SettingLifecycle = "lifecycle"
)

// Limits of a bucket setting. S3 caps a CORS configuration at 64 KiB; a
// lifecycle configuration of S3's 1,000 rules takes a few hundred.
const (
	maxSettingNameLen = 64
	// MaxSettingValueLen is the largest setting value, in bytes.
	MaxSettingValueLen = 1 << 20
)

// BucketSetting is one named configuration of a bucket, as its owner (the
// gateway) encodes it. The journal stores it with the bucket and drops it
// with the bucket.
type BucketSetting struct {
	Name  string
	Value string // empty: no such setting
}

// SetBucketSetting stores (or, with an empty value, removes) a setting of
// bucket: ErrNoSuchBucket.
func (n *Node) SetBucketSetting(ctx context.Context, bucket, name, value string) error {
	return n.propose(ctx, &command{Op: opBucketSet, Time: time.Now(), Bucket: bucket,
		Setting: BucketSetting{Name: name, Value: value}})
}

// BucketSetting returns a setting of bucket, ok false when it has none:
// ErrNoSuchBucket.
func (n *Node) BucketSetting(bucket, name string) (value string, ok bool, err error) {
	err = n.fsm.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktBuckets).Get([]byte(bucket))
		if v == nil {
			return ErrNoSuchBucket
		}
		b, err := decodeBucket(bucket, v)
		if err != nil {
			return err
		}
		value, ok = b.Settings[name]
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("queue: bucket %s setting %s: %w", bucket, name, err)
	}
	return value, ok, nil
}

func (a *applier) bucketSet(c *command) (error, error) {
	name := []byte(c.Bucket)
	v := a.buckets.Get(name)
	if v == nil {
		return ErrNoSuchBucket, nil
	}
	b, err := decodeBucket(c.Bucket, v)
	if err != nil {
		return nil, err
	}
	delete(a.vstate, c.Bucket)
	if c.Setting.Value == "" {
		delete(b.Settings, c.Setting.Name)
	} else {
		if b.Settings == nil {
			b.Settings = make(map[string]string)
		}
		b.Settings[c.Setting.Name] = c.Setting.Value
	}
	return nil, a.buckets.Put(name, encodeBucket(&b))
}

func validateSetting(s *BucketSetting, bad func(string, ...any) error) error {
	if s.Name == "" || len(s.Name) > maxSettingNameLen {
		return bad("setting name must be 1-%d bytes", maxSettingNameLen)
	}
	if len(s.Value) > MaxSettingValueLen {
		return bad("setting %s is %d bytes, more than %d", s.Name, len(s.Value), MaxSettingValueLen)
	}
	return nil
}
