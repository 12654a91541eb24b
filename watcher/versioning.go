package watcher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipas/ipas/queue"
)

// bucketSettings is the part of the journal (*queue.Node) that keeps a
// bucket's versioning.
type bucketSettings interface {
	BucketSetting(bucket, name string) (value string, ok bool, err error)
	SetBucketSetting(ctx context.Context, bucket, name, value string) error
}

var _ bucketSettings = (*queue.Node)(nil)

// createBucket makes sure bucket exists, owned by the folder's owner when
// the folder creates it, and is versioned when the folder asks for it.
func (f *folder) createBucket(ctx context.Context, index Index, bucket string) error {
	if err := index.CreateOwnedBucket(ctx, bucket, f.cfg.Owner, time.Now()); err != nil && !errors.Is(err, queue.ErrBucketExists) {
		return err
	}
	if f.cfg.Versioning != VersioningEnabled {
		return nil
	}
	s, ok := index.(bucketSettings)
	if !ok {
		return fmt.Errorf("versioning: enabled: the index cannot version buckets")
	}
	// A bucket whose versioning was set (or suspended) by its owner keeps it;
	// checked every start, so a crash between the two steps is harmless.
	if _, set, err := s.BucketSetting(bucket, queue.SettingVersioning); err != nil || set {
		return err
	}
	return s.SetBucketSetting(ctx, bucket, queue.SettingVersioning, queue.VersioningEnabled)
}
