package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/users"
)

// Paths of the user and key endpoints. Each needs an admin credential, as
// every endpoint of the API does.
const (
	PathUsers       = "/_ipas/v1/users"         // GET: list; POST AddUserRequest: add
	PathUserRemove  = "/_ipas/v1/users/remove"  // POST UserRequest
	PathUserDisable = "/_ipas/v1/users/disable" // POST DisableRequest
	PathUserQuota   = "/_ipas/v1/users/quota"   // POST QuotaRequest
	PathKeys        = "/_ipas/v1/keys"          // GET ?user=: list; POST AddKeyRequest: add
	PathKeyRevoke   = "/_ipas/v1/keys/revoke"   // POST KeyRequest
	PathKeyRotate   = "/_ipas/v1/keys/rotate"   // POST KeyRequest
)

// Users is the directory of users and keys (*users.Directory).
type Users interface {
	AddUser(ctx context.Context, name string, role authz.Role) (users.Credential, error)
	Users() []users.UserInfo
	RemoveUser(ctx context.Context, name string) error
	SetDisabled(ctx context.Context, name string, disabled bool) error
	SetQuota(ctx context.Context, name string, quota int64) error
	AddKey(ctx context.Context, user string, spec users.KeySpec) (users.Credential, error)
	Keys(user string) ([]users.KeyInfo, error)
	RevokeKey(ctx context.Context, id string) error
	RotateKey(ctx context.Context, id string) (users.Credential, error)
}

var _ Users = (*users.Directory)(nil)

// AddUserRequest is the body of POST PathUsers.
type AddUserRequest struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
}

// UserRequest names a user.
type UserRequest struct {
	Name string `json:"name"`
}

// DisableRequest disables (or, with Disabled false, enables) a user.
type DisableRequest struct {
	Name     string `json:"name"`
	Disabled bool   `json:"disabled"`
}

// QuotaRequest sets a user's quota in bytes (0: none).
type QuotaRequest struct {
	Name  string `json:"name"`
	Quota int64  `json:"quota"`
}

// AddKeyRequest is the body of POST PathKeys.
type AddKeyRequest struct {
	User string `json:"user"`
	users.KeySpec
}

// KeyRequest names an access key.
type KeyRequest struct {
	AccessKey string `json:"access_key"`
}

// WithUsers serves the user and key endpoints over u, and lets only admins
// (isAdmin of the access key) use the API.
func (h *Handler) WithUsers(u Users, isAdmin func(accessKey string) bool) *Handler {
	h.users, h.isAdmin = u, isAdmin
	return h
}

// UserError maps the directory's sentinels (users.ErrInvalid, ...) onto the
// API's (ErrInvalid, ...), for the console as for the signed API.
func UserError(err error) error {
	for from, to := range map[error]error{users.ErrInvalid: ErrInvalid, users.ErrNotFound: ErrNotFound, users.ErrConflict: ErrConflict} {
		if errors.Is(err, from) {
			return fmt.Errorf("%w: %s", to, strings.TrimPrefix(err.Error(), from.Error()+": "))
		}
	}
	return err
}

// post is a POST endpoint whose JSON body decodes into a T.
func post[T any](serve func(ctx context.Context, req T) (any, error)) route {
	return route{method: http.MethodPost, serve: func(ctx context.Context, body []byte) (any, error) {
		var req T
		if err := decodeBody(body, &req); err != nil {
			return nil, err
		}
		out, err := serve(ctx, req)
		return out, UserError(err)
	}}
}

func (h *Handler) userRoute(path string) (route, bool) {
	u := h.users
	if u == nil {
		return route{}, false
	}
	switch path {
	case PathUsers:
		rt := post(func(ctx context.Context, req AddUserRequest) (any, error) {
			return u.AddUser(ctx, req.Name, authz.Role(req.Role))
		})
		rt.get = func(context.Context, url.Values) (any, error) { return u.Users(), nil }
		return rt, true
	case PathUserRemove:
		return post(func(ctx context.Context, req UserRequest) (any, error) { return nil, u.RemoveUser(ctx, req.Name) }), true
	case PathUserDisable:
		return post(func(ctx context.Context, req DisableRequest) (any, error) {
			return nil, u.SetDisabled(ctx, req.Name, req.Disabled)
		}), true
	case PathUserQuota:
		return post(func(ctx context.Context, req QuotaRequest) (any, error) {
			return nil, u.SetQuota(ctx, req.Name, req.Quota)
		}), true
	case PathKeys:
		rt := post(func(ctx context.Context, req AddKeyRequest) (any, error) { return u.AddKey(ctx, req.User, req.KeySpec) })
		rt.get = func(_ context.Context, q url.Values) (any, error) {
			keys, err := u.Keys(q.Get("user"))
			return keys, UserError(err)
		}
		return rt, true
	case PathKeyRevoke:
		return post(func(ctx context.Context, req KeyRequest) (any, error) { return nil, u.RevokeKey(ctx, req.AccessKey) }), true
	case PathKeyRotate:
		return post(func(ctx context.Context, req KeyRequest) (any, error) { return u.RotateKey(ctx, req.AccessKey) }), true
	}
	return route{}, false
}
