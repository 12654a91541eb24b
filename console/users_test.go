package console

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/queuetest"
	"github.com/ipas/ipas/users"
)

// realDirectory is a users.Directory over a real journal.
func realDirectory(t *testing.T) *users.Directory {
	t.Helper()
	sealer, err := users.NewSealer(bytes.Repeat([]byte{3}, users.SealKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return users.New(queuetest.Open(t), sealer, map[string]string{testKey: testSecret}, zerolog.Nop())
}

// TestAPI_Users drives the Users page's endpoints over a real directory: a
// change needs the session's CSRF token, the directory's refusals keep their
// status and message (the built-in admin: 409), and what the endpoints did
// is what the directory holds.
func TestAPI_Users(t *testing.T) {
	dir := realDirectory(t)
	ts := newTestConsole(t, &recorder{}, func(s *Server) { s.Users = dir })
	c := newClient(t, ts.URL)
	if code, _ := c.do("GET", "/api/v1/users", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the user list without a session: %d", code)
	}
	if code, e := c.login(testKey, testSecret); code != 200 {
		t.Fatalf("sign in: %d %s", code, e)
	}

	var cred users.Credential
	if code, e := c.do("POST", "/api/v1/users", admin.AddUserRequest{Name: "alice"}, &cred); code != 200 {
		t.Fatalf("add alice: %d %s", code, e)
	}
	if s, ok := dir.SecretKey(cred.AccessKey); !ok || s != cred.SecretKey || cred.User != "alice" {
		t.Fatalf("the credential answered is not alice's key in the directory: %+v", cred.User)
	}
	csrf := c.csrf
	c.csrf = ""
	if code, e := c.do("POST", "/api/v1/users/remove", admin.UserRequest{Name: "alice"}, nil); code != http.StatusForbidden || e != "InvalidCSRFToken" {
		t.Fatalf("a removal without the CSRF token: %d %s", code, e)
	}
	c.csrf = csrf
	if len(dir.Users()) != 2 {
		t.Fatal("a refused removal removed alice")
	}

	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"remove the built-in admin", "/api/v1/users/remove", admin.UserRequest{Name: "admin"}, 409, "Conflict"},
		{"a second alice", "/api/v1/users", admin.AddUserRequest{Name: "alice"}, 409, "Conflict"},
		{"a bad role", "/api/v1/users", admin.AddUserRequest{Name: "bob", Role: "boss"}, 400, "InvalidRequest"},
		{"a key of nobody", "/api/v1/keys", admin.AddKeyRequest{User: "nobody"}, 404, "NotFound"},
		{"a negative quota", "/api/v1/users/quota", admin.QuotaRequest{Name: "alice", Quota: -1}, 400, "InvalidRequest"},
		{"an unknown field", "/api/v1/users/quota", map[string]any{"name": "alice", "quota": "50GiB"}, 400, "InvalidRequest"},
		{"revoke nothing", "/api/v1/keys/revoke", admin.KeyRequest{AccessKey: "IPASNOSUCHKEY"}, 404, "NotFound"},
	} {
		if status, code := c.do("POST", tc.path, tc.body, nil); status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, code, tc.status, tc.code)
		}
	}

	var key users.Credential
	if code, e := c.do("POST", "/api/v1/keys", admin.AddKeyRequest{User: "alice", KeySpec: users.KeySpec{Access: "write", Scopes: []string{"photos/laptop/"}}}, &key); code != 200 {
		t.Fatalf("add a key: %d %s", code, e)
	}
	if p, ok := dir.Principal(key.AccessKey); !ok || p.Access != "write" || len(p.Scopes) != 1 || p.Scopes[0] != "photos/laptop/" {
		t.Fatalf("the key added is %+v", p)
	}
	if code, e := c.do("POST", "/api/v1/users/quota", admin.QuotaRequest{Name: "alice", Quota: 50 << 30}, nil); code != 204 {
		t.Fatalf("set a quota: %d %s", code, e)
	}
	if code, e := c.do("POST", "/api/v1/users/disable", admin.DisableRequest{Name: "alice", Disabled: true}, nil); code != 204 {
		t.Fatalf("disable: %d %s", code, e)
	}
	var list []users.UserInfo
	c.do("GET", "/api/v1/users", nil, &list)
	if len(list) != 2 || list[1].Name != "alice" || !list[1].Disabled || list[1].Quota != 50<<30 || list[1].Keys != 2 {
		t.Fatalf("the user list: %+v", list)
	}
	var keys []users.KeyInfo
	c.do("GET", "/api/v1/keys?user=alice", nil, &keys)
	if len(keys) != 2 {
		t.Fatalf("alice's keys: %+v", keys)
	}
	var rotated users.Credential
	if code, e := c.do("POST", "/api/v1/keys/rotate", admin.KeyRequest{AccessKey: key.AccessKey}, &rotated); code != 200 || rotated.AccessKey == key.AccessKey {
		t.Fatalf("rotate: %d %s %s", code, e, rotated.AccessKey)
	}
	if code, e := c.do("POST", "/api/v1/keys/revoke", admin.KeyRequest{AccessKey: rotated.AccessKey}, nil); code != 204 {
		t.Fatalf("revoke: %d %s", code, e)
	}
	if code, e := c.do("POST", "/api/v1/users/remove", admin.UserRequest{Name: "alice"}, nil); code != 204 {
		t.Fatalf("remove alice: %d %s", code, e)
	}
	if len(dir.Users()) != 1 {
		t.Fatalf("users after the removal: %+v", dir.Users())
	}
}

// TestAPI_UsersOff: without a directory the Users page's endpoints say so.
func TestAPI_UsersOff(t *testing.T) {
	ts := newTestConsole(t, &recorder{}, nil)
	c := newClient(t, ts.URL)
	c.login(testKey, testSecret)
	if code, e := c.do("GET", "/api/v1/users", nil, nil); code != http.StatusNotImplemented || e != "NotImplemented" {
		t.Fatalf("the user list without a directory: %d %s", code, e)
	}
}
