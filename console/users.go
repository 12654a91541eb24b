package console

import (
	"context"
	"net/http"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/authz"
)

// userEndpoints are the JSON endpoints of the Users page: the admin API's
// user and key calls, through the same admin.Users, behind the console's
// session (which only admins get). A new secret is in the answer of the
// request that made it, and nowhere else.
func (s *Server) userEndpoints() []endpoint {
	dir := func(fn func(ctx context.Context, r *http.Request, u admin.Users) (any, error)) func(context.Context, *http.Request, *session) (any, error) {
		return func(ctx context.Context, r *http.Request, _ *session) (any, error) {
			if s.Users == nil {
				return nil, errNoArchive
			}
			out, err := fn(ctx, r, s.Users)
			return out, admin.UserError(err)
		}
	}
	return []endpoint{
		{"GET /api/v1/users", false, dir(func(_ context.Context, _ *http.Request, u admin.Users) (any, error) {
			return u.Users(), nil
		})},
		{"POST /api/v1/users", true, dir(func(ctx context.Context, r *http.Request, u admin.Users) (any, error) {
			return decoded(r, func(req admin.AddUserRequest) (any, error) { return u.AddUser(ctx, req.Name, authz.Role(req.Role)) })
		})},
		{"POST /api/v1/users/remove", true, dir(func(ctx context.Context, r *http.Request, u admin.Users) (any, error) {
			return decoded(r, func(req admin.UserRequest) (any, error) { return nil, u.RemoveUser(ctx, req.Name) })
		})},
		{"POST /api/v1/users/disable", true, dir(func(ctx context.Context, r *http.Request, u admin.Users) (any, error) {
			return decoded(r, func(req admin.DisableRequest) (any, error) { return nil, u.SetDisabled(ctx, req.Name, req.Disabled) })
		})},
		{"POST /api/v1/users/quota", true, dir(func(ctx context.Context, r *http.Request, u admin.Users) (any, error) {
			return decoded(r, func(req admin.QuotaRequest) (any, error) { return nil, u.SetQuota(ctx, req.Name, req.Quota) })
		})},
		{"GET /api/v1/keys", false, dir(func(_ context.Context, r *http.Request, u admin.Users) (any, error) {
			return u.Keys(r.URL.Query().Get("user"))
		})},
		{"POST /api/v1/keys", true, dir(func(ctx context.Context, r *http.Request, u admin.Users) (any, error) {
			return decoded(r, func(req admin.AddKeyRequest) (any, error) { return u.AddKey(ctx, req.User, req.KeySpec) })
		})},
		{"POST /api/v1/keys/revoke", true, dir(func(ctx context.Context, r *http.Request, u admin.Users) (any, error) {
			return decoded(r, func(req admin.KeyRequest) (any, error) { return nil, u.RevokeKey(ctx, req.AccessKey) })
		})},
		{"POST /api/v1/keys/rotate", true, dir(func(ctx context.Context, r *http.Request, u admin.Users) (any, error) {
			return decoded(r, func(req admin.KeyRequest) (any, error) { return u.RotateKey(ctx, req.AccessKey) })
		})},
	}
}

// decoded decodes r's JSON body into a T and serves it.
func decoded[T any](r *http.Request, serve func(T) (any, error)) (any, error) {
	var req T
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	return serve(req)
}
