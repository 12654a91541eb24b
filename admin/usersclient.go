package admin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/ipas/ipas/users"
)

// AddUser creates a user with one access key.
func (c *Client) AddUser(ctx context.Context, name, role string) (users.Credential, error) {
	var out users.Credential
	err := c.doJSON(ctx, PathUsers, AddUserRequest{Name: name, Role: role}, &out)
	return out, err
}

// Users lists the users.
func (c *Client) Users(ctx context.Context) ([]users.UserInfo, error) {
	var out []users.UserInfo
	err := c.do(ctx, http.MethodGet, PathUsers, nil, &out)
	return out, err
}

// RemoveUser deletes a user and their keys.
func (c *Client) RemoveUser(ctx context.Context, name string) error {
	return c.doJSON(ctx, PathUserRemove, UserRequest{Name: name}, nil)
}

// SetUserDisabled disables or enables a user.
func (c *Client) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	return c.doJSON(ctx, PathUserDisable, DisableRequest{Name: name, Disabled: disabled}, nil)
}

// SetUserQuota sets a user's quota in bytes (0: none).
func (c *Client) SetUserQuota(ctx context.Context, name string, quota int64) error {
	return c.doJSON(ctx, PathUserQuota, QuotaRequest{Name: name, Quota: quota}, nil)
}

// AddKey adds an access key to a user.
func (c *Client) AddKey(ctx context.Context, user string, spec users.KeySpec) (users.Credential, error) {
	var out users.Credential
	err := c.doJSON(ctx, PathKeys, AddKeyRequest{User: user, KeySpec: spec}, &out)
	return out, err
}

// Keys lists the access keys of user ("" for everyone's).
func (c *Client) Keys(ctx context.Context, user string) ([]users.KeyInfo, error) {
	path := PathKeys
	if user != "" {
		path += "?" + url.Values{"user": {user}}.Encode()
	}
	var out []users.KeyInfo
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// RevokeKey deletes an access key.
func (c *Client) RevokeKey(ctx context.Context, accessKey string) error {
	return c.doJSON(ctx, PathKeyRevoke, KeyRequest{AccessKey: accessKey}, nil)
}

// RotateKey replaces an access key with a new one.
func (c *Client) RotateKey(ctx context.Context, accessKey string) (users.Credential, error) {
	var out users.Credential
	err := c.doJSON(ctx, PathKeyRotate, KeyRequest{AccessKey: accessKey}, &out)
	return out, err
}
