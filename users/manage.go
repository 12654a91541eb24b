package users

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/queue"
)

// Sentinels of the management calls; the admin API maps them onto 400, 404
// and 409.
var (
	ErrInvalid   = errors.New("users: invalid request")
	ErrNotFound  = errors.New("users: not found")
	ErrConflict  = errors.New("users: conflict")
	ErrLastAdmin = fmt.Errorf("%w: the built-in user %q holds the credentials of the config file, the environment and first start, and is the admin of last resort: it cannot be removed, disabled or given keys here", ErrConflict, BuiltinAdmin)
)

// Credential is a new access key and its secret, shown once.
type Credential struct {
	User      string `json:"user"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// UserInfo describes a user for `gateway user list`.
type UserInfo struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Disabled bool      `json:"disabled,omitempty"`
	Builtin  bool      `json:"builtin,omitempty"`
	Quota    int64     `json:"quota,omitempty"` // bytes in the user's buckets; 0: none
	Used     int64     `json:"used"`            // bytes in the user's buckets now
	Created  time.Time `json:"created,omitempty"`
	Keys     int       `json:"keys"`
}

// KeyInfo describes an access key, without its secret.
type KeyInfo struct {
	AccessKey string    `json:"access_key"`
	User      string    `json:"user"`
	Access    string    `json:"access"`
	Scopes    []string  `json:"scopes,omitempty"`
	Created   time.Time `json:"created,omitempty"`
	// LastUsed is when the key last signed a request since the daemon
	// started; absent: not since then.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// KeySpec is what a new key may do.
type KeySpec struct {
	Access string   `json:"access,omitempty"` // full (default), read or write
	Scopes []string `json:"scopes,omitempty"` // BUCKET or BUCKET/PREFIX
}

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// newCredential mints an access key and a secret as the first-start
// credential does: "IPAS" and 16 base32 characters, and 256 bits.
func newCredential(user string) Credential {
	return Credential{User: user, AccessKey: "IPAS" + rand.Text()[:16], SecretKey: rand.Text() + rand.Text()}
}

// AddUser creates a user with one full access key.
func (d *Directory) AddUser(ctx context.Context, name string, role authz.Role) (Credential, error) {
	if role == "" {
		role = authz.RoleUser
	}
	switch {
	case !userNameRE.MatchString(name):
		return Credential{}, fmt.Errorf("%w: user name %q: use 1-64 lower-case letters, digits, '.', '_' or '-'", ErrInvalid, name)
	case name == BuiltinAdmin:
		return Credential{}, fmt.Errorf("%w: %q is the built-in admin", ErrConflict, name)
	case !slices.Contains(authz.Roles, role):
		return Credential{}, fmt.Errorf("%w: role %q: use one of %v", ErrInvalid, role, authz.Roles)
	}
	err := d.journal.AddUser(ctx, queue.User{Name: name, Role: string(role)})
	if errors.Is(err, queue.ErrUserExists) {
		return Credential{}, fmt.Errorf("%w: user %q exists", ErrConflict, name)
	}
	if err != nil {
		return Credential{}, err
	}
	return d.AddKey(ctx, name, KeySpec{})
}

// Users lists every user, the built-in admin first.
func (d *Directory) Users() []UserInfo {
	s := d.current()
	out := []UserInfo{{Name: BuiltinAdmin, Role: string(authz.RoleAdmin), Builtin: true, Keys: len(d.builtin),
		Used: d.usage("") + d.usage(BuiltinAdmin)}}
	for _, u := range s.users {
		n := 0
		for _, k := range s.akeys {
			if k.User == u.Name {
				n++
			}
		}
		out = append(out, UserInfo{Name: u.Name, Role: u.Role, Disabled: u.Disabled, Quota: u.Quota, Used: d.usage(u.Name),
			Created: u.Created, Keys: n})
	}
	slices.SortFunc(out[1:], func(a, b UserInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// usage is the bytes in owner's buckets; a failure to count is logged and
// shows as 0.
func (d *Directory) usage(owner string) int64 {
	n, err := d.journal.OwnerUsage(owner)
	if err != nil {
		d.log.Error().Err(err).Str("user", owner).Msg("count the bytes of a user's buckets")
	}
	return n
}

func (d *Directory) user(name string) (queue.User, error) {
	if name == BuiltinAdmin {
		return queue.User{}, ErrLastAdmin
	}
	u, ok := d.current().users[name]
	if !ok {
		return u, fmt.Errorf("%w: no user %q", ErrNotFound, name)
	}
	return u, nil
}

// RemoveUser deletes a user and their keys; their buckets stay, owned by
// the removed name, reachable by admins.
func (d *Directory) RemoveUser(ctx context.Context, name string) error {
	if _, err := d.user(name); err != nil {
		return err
	}
	err := d.journal.RemoveUser(ctx, name)
	if errors.Is(err, queue.ErrNoSuchUser) {
		return fmt.Errorf("%w: no user %q", ErrNotFound, name)
	}
	return err
}

// SetDisabled disables or enables a user: a disabled user's keys are
// refused as unknown (InvalidAccessKeyId) until enabled again.
func (d *Directory) SetDisabled(ctx context.Context, name string, disabled bool) error {
	u, err := d.user(name)
	if err != nil {
		return err
	}
	u.Disabled = disabled
	return d.journal.UpdateUser(ctx, u)
}

// SetQuota bounds the bytes of the objects in a user's buckets; 0 removes
// the bound.
func (d *Directory) SetQuota(ctx context.Context, name string, quota int64) error {
	if quota < 0 {
		return fmt.Errorf("%w: quota %d: use 0 (none) or more bytes", ErrInvalid, quota)
	}
	u, err := d.user(name)
	if err != nil {
		return err
	}
	u.Quota = quota
	return d.journal.UpdateUser(ctx, u)
}

// Quota returns a user's quota in bytes; 0: none.
func (d *Directory) Quota(user string) int64 { return d.current().users[user].Quota }

// AddKey adds an access key to a user.
func (d *Directory) AddKey(ctx context.Context, user string, spec KeySpec) (Credential, error) {
	if _, err := d.user(user); err != nil {
		return Credential{}, err
	}
	k, cred, err := d.newKey(user, spec)
	if err != nil {
		return Credential{}, err
	}
	if err := d.journal.AddAccessKey(ctx, k, ""); err != nil {
		return Credential{}, d.keyError(err, user)
	}
	return cred, nil
}

func (d *Directory) newKey(user string, spec KeySpec) (queue.AccessKey, Credential, error) {
	access := authz.Access(spec.Access)
	if access == "" {
		access = authz.AccessFull
	}
	if !slices.Contains(authz.Accesses, access) {
		return queue.AccessKey{}, Credential{}, fmt.Errorf("%w: access %q: use one of %v", ErrInvalid, spec.Access, authz.Accesses)
	}
	for _, s := range spec.Scopes {
		if b, _, _ := strings.Cut(s, "/"); b == "" {
			return queue.AccessKey{}, Credential{}, fmt.Errorf("%w: scope %q: use BUCKET or BUCKET/PREFIX", ErrInvalid, s)
		}
	}
	cred := newCredential(user)
	k := queue.AccessKey{ID: cred.AccessKey, User: user, Sealed: d.sealer.Seal(cred.AccessKey, cred.SecretKey),
		Access: string(access), Scopes: spec.Scopes}
	return k, cred, nil
}

func (d *Directory) keyError(err error, user string) error {
	switch {
	case errors.Is(err, queue.ErrNoSuchUser):
		return fmt.Errorf("%w: no user %q", ErrNotFound, user)
	case errors.Is(err, queue.ErrNoSuchAccessKey):
		return fmt.Errorf("%w: no such access key", ErrNotFound)
	case errors.Is(err, queue.ErrAccessKeyExists):
		return fmt.Errorf("%w: access key exists; try again", ErrConflict)
	}
	return err
}

// Keys lists the access keys of user, or of everyone when user is "".
func (d *Directory) Keys(user string) ([]KeyInfo, error) {
	if user != "" && user != BuiltinAdmin {
		if _, err := d.user(user); err != nil {
			return nil, err
		}
	}
	var out []KeyInfo
	if user == "" || user == BuiltinAdmin {
		for ak := range d.builtin {
			out = append(out, KeyInfo{AccessKey: ak, User: BuiltinAdmin, Access: string(authz.AccessFull), LastUsed: d.LastUsed(ak)})
		}
	}
	for _, k := range d.current().akeys {
		if user == "" || k.User == user {
			access := k.Access
			if access == "" {
				access = string(authz.AccessFull)
			}
			out = append(out, KeyInfo{AccessKey: k.ID, User: k.User, Access: access, Scopes: k.Scopes, Created: k.Created, LastUsed: d.LastUsed(k.ID)})
		}
	}
	slices.SortFunc(out, func(a, b KeyInfo) int { return strings.Compare(a.User+" "+a.AccessKey, b.User+" "+b.AccessKey) })
	return out, nil
}

func (d *Directory) journaledKey(id string) (queue.AccessKey, error) {
	if _, ok := d.builtin[id]; ok {
		return queue.AccessKey{}, ErrLastAdmin
	}
	for _, k := range d.current().akeys {
		if k.ID == id {
			return k, nil
		}
	}
	return queue.AccessKey{}, fmt.Errorf("%w: no access key %q", ErrNotFound, id)
}

// RevokeKey deletes an access key at once.
func (d *Directory) RevokeKey(ctx context.Context, id string) error {
	if _, err := d.journaledKey(id); err != nil {
		return err
	}
	return d.keyError(d.journal.RevokeAccessKey(ctx, id), "")
}

// RotateKey replaces an access key with a new one of the same user and
// limits, in one journal entry.
func (d *Directory) RotateKey(ctx context.Context, id string) (Credential, error) {
	old, err := d.journaledKey(id)
	if err != nil {
		return Credential{}, err
	}
	k, cred, err := d.newKey(old.User, KeySpec{Access: old.Access, Scopes: old.Scopes})
	if err != nil {
		return Credential{}, err
	}
	if err := d.journal.AddAccessKey(ctx, k, id); err != nil {
		return Credential{}, d.keyError(err, old.User)
	}
	return cred, nil
}
