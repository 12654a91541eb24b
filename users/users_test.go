package users

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/internal/queuetest"
	"github.com/ipas/ipas/queue"
)

func openDirectory(t *testing.T) (*Directory, *queue.Node) {
	t.Helper()
	n := queuetest.Open(t)
	s, err := NewSealer(bytes.Repeat([]byte{1}, SealKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return New(n, s, map[string]string{"ROOTKEY": "root-secret"}, zerolog.Nop()), n
}

func TestSealer(t *testing.T) {
	a, _ := NewSealer(bytes.Repeat([]byte{1}, SealKeySize))
	b, _ := NewSealer(bytes.Repeat([]byte{2}, SealKeySize))
	sealed := a.Seal("AK1", "the secret")
	if bytes.Contains(sealed, []byte("the secret")) {
		t.Fatal("sealed bytes hold the secret")
	}
	if got, err := a.Open("AK1", sealed); err != nil || got != "the secret" {
		t.Fatalf("Open: %q, %v", got, err)
	}
	if _, err := b.Open("AK1", sealed); !errors.Is(err, ErrUnseal) {
		t.Fatalf("another data directory's key opened it: %v", err)
	}
	if _, err := a.Open("AK2", sealed); !errors.Is(err, ErrUnseal) {
		t.Fatalf("the secret moved to another key ID: %v", err)
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Fatal("a short seal key was accepted")
	}
}

// TestDirectory: keys resolve to their users and limits, changes show at
// once, a disabled or removed user's keys are unknown, and the built-in
// admin can be neither removed nor given journaled keys.
func TestDirectory(t *testing.T) {
	d, _ := openDirectory(t)
	ctx := context.Background()
	if s, ok := d.SecretKey("ROOTKEY"); !ok || s != "root-secret" {
		t.Fatal("the configured credential is not known")
	}
	if p, _ := d.Principal("ROOTKEY"); p.User != BuiltinAdmin || p.Role != authz.RoleAdmin {
		t.Fatalf("the configured credential is %+v, want the built-in admin", p)
	}
	alice, err := d.AddUser(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := d.SecretKey(alice.AccessKey); !ok || s != alice.SecretKey {
		t.Fatal("alice's new key is not known at once")
	}
	if p, _ := d.Principal(alice.AccessKey); p.User != "alice" || p.Role != authz.RoleUser || p.Access != authz.AccessFull {
		t.Fatalf("alice's key is %+v", p)
	}
	w, err := d.AddKey(ctx, "alice", KeySpec{Access: "write", Scopes: []string{"photos/laptop/"}})
	if err != nil {
		t.Fatal(err)
	}
	// A key's last use since start: none yet, then its signed request.
	if !d.LastUsed(w.AccessKey).IsZero() {
		t.Fatal("an unused key has a last use")
	}
	d.Principal(w.AccessKey)
	keys, _ := d.Keys("alice")
	for _, k := range keys {
		if k.AccessKey == w.AccessKey && time.Since(k.LastUsed) > time.Minute {
			t.Fatalf("a key's use is not listed: %+v", k)
		}
	}
	if p, _ := d.Principal(w.AccessKey); p.Access != authz.AccessWrite || len(p.Scopes) != 1 {
		t.Fatalf("the write-only key is %+v", p)
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"remove the built-in admin", d.RemoveUser(ctx, BuiltinAdmin), ErrLastAdmin},
		{"disable the built-in admin", d.SetDisabled(ctx, BuiltinAdmin, true), ErrLastAdmin},
		{"revoke a configured key", d.RevokeKey(ctx, "ROOTKEY"), ErrLastAdmin},
		{"a second alice", func() error { _, err := d.AddUser(ctx, "alice", ""); return err }(), ErrConflict},
		{"a bad role", func() error { _, err := d.AddUser(ctx, "bob", "boss"); return err }(), ErrInvalid},
		{"a bad name", func() error { _, err := d.AddUser(ctx, "Bob Smith", ""); return err }(), ErrInvalid},
		{"a bad access", func() error { _, err := d.AddKey(ctx, "alice", KeySpec{Access: "everything"}); return err }(), ErrInvalid},
		{"a key of nobody", func() error { _, err := d.AddKey(ctx, "nobody", KeySpec{}); return err }(), ErrNotFound},
		{"a negative quota", d.SetQuota(ctx, "alice", -1), ErrInvalid},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if err := d.SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.SecretKey(alice.AccessKey); ok {
		t.Fatal("a disabled user's key is known")
	}
	if err := d.SetDisabled(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	rotated, err := d.RotateKey(ctx, w.AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.SecretKey(w.AccessKey); ok {
		t.Fatal("a rotated-out key is known")
	}
	if p, _ := d.Principal(rotated.AccessKey); p.Access != authz.AccessWrite || p.Scopes[0] != "photos/laptop/" {
		t.Fatalf("the rotated key lost its limits: %+v", p)
	}
	if err := d.RemoveUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.SecretKey(rotated.AccessKey); ok {
		t.Fatal("a removed user's key is known")
	}
	if users := d.Users(); len(users) != 1 || !users[0].Builtin {
		t.Fatalf("users after removing alice: %+v", users)
	}
}
