package restore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
)

// restoreUsers journals the snapshot's users that the data directory lacks,
// and their access keys when the snapshot carries their secrets sealed under
// a passphrase that Options.Secrets opens. Otherwise an admin gives each
// user a new key (`gateway key add`).
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
	return r.restoreKeys(ctx, snap.header)
}

// restoreKeys journals the snapshot's access keys, their secrets re-sealed
// for this data directory. A passphrase that does not open them (or none)
// leaves the users without keys, and the result says why.
func (r *Restorer) restoreKeys(ctx context.Context, h remoteindex.Header) error {
	note := func(s string) {
		r.mu.Lock()
		r.res.KeysNote = s
		r.mu.Unlock()
	}
	switch {
	case h.Secrets == nil && r.opts.Secrets != nil:
		note("the remote index holds no secret (it was written without remote.users_passphrase_file): no access key restored")
		return nil
	case h.Secrets == nil:
		return nil
	case r.opts.Secrets == nil:
		note("the remote index holds the access keys sealed under a passphrase: give it (--users-passphrase-file or " +
			"IPAS_USERS_PASSPHRASE) to restore them; none restored")
		return nil
	}
	reseal, err := r.opts.Secrets(*h.Secrets)
	if err != nil {
		note(fmt.Sprintf("access keys not restored: %v", err))
		return nil
	}
	var restored, unopened int
	for _, u := range h.Users {
		for _, k := range u.Keys {
			if len(k.Secret) == 0 {
				continue
			}
			sealed, err := reseal(k.ID, k.Secret)
			if err != nil {
				unopened++
				continue
			}
			err = r.index.AddAccessKey(ctx, queue.AccessKey{ID: k.ID, User: u.Name, Sealed: sealed, Access: k.Access, Scopes: k.Scopes, Created: k.Created}, "")
			switch {
			case errors.Is(err, queue.ErrAccessKeyExists):
			case err != nil:
				return fmt.Errorf("restore: access key of user %s: %w", u.Name, err)
			default:
				restored++
			}
		}
	}
	r.mu.Lock()
	r.res.Keys += restored
	r.mu.Unlock()
	if unopened > 0 {
		note(fmt.Sprintf("%d access key(s) not restored: their sealed secret is damaged", unopened))
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
