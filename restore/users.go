package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
)

// restoreUsers journals the snapshot's users that the data directory lacks.
// Their access keys are not restored: a snapshot holds no secret, so an
// admin gives each user a new key (`gateway key add`).
func (r *Restorer) restoreUsers(ctx context.Context, snap *snapshot) error {
	for _, u := range snap.header.Users {
		err := r.index.AddUser(ctx, queue.User{Name: u.Name, Role: u.Role, Disabled: u.Disabled, Quota: u.Quota, Created: u.Created})
		switch {
		case errors.Is(err, queue.ErrUserExists):
		case err != nil:
			return fmt.Errorf("restore: user %s: %w", u.Name, err)
		default:
			r.mu.Lock()
			r.res.Users = append(r.res.Users, u.Name)
			r.mu.Unlock()
		}
	}
	return nil
}

// restoreBucket creates a bucket of the snapshot with its owner and policy;
// a bucket that exists keeps its own.
func (r *Restorer) restoreBucket(ctx context.Context, b remoteindex.Bucket) error {
	err := r.index.CreateOwnedBucket(ctx, b.Name, b.Settings[remoteindex.SettingOwner], b.Created)
	if errors.Is(err, queue.ErrBucketExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: create bucket %s: %w", b.Name, err)
	}
	if v := b.Settings[remoteindex.SettingVersioning]; v != "" {
		if err := r.index.SetBucketSetting(ctx, b.Name, queue.SettingVersioning, v); err != nil {
			return fmt.Errorf("restore: versioning of bucket %s: %w", b.Name, err)
		}
	}
	if p := b.Settings[remoteindex.SettingPolicy]; p != "" {
		if err := r.index.SetBucketPolicy(ctx, b.Name, p); err != nil {
			return fmt.Errorf("restore: policy of bucket %s: %w", b.Name, err)
		}
	}
	return nil
}
