package queue

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestUsersRecords journals users, keys, owners and policies, checks each
// refusal, and reads the same directory back after a restart from the log
// and after one from a snapshot.
func TestUsersRecords(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	gen := n.AuthGeneration()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n.AddUser(ctx, User{Name: "alice", Role: "user", Quota: 5 << 30}))
	must(n.AddUser(ctx, User{Name: "bob", Role: "readonly"}))
	if err := n.AddUser(ctx, User{Name: "alice", Role: "admin"}); !errors.Is(err, ErrUserExists) {
		t.Fatalf("adding alice twice: %v", err)
	}
	if n.AuthGeneration() == gen {
		t.Fatal("AuthGeneration did not move")
	}
	sealed := []byte("0123456789abcdef-sealed")
	must(n.AddAccessKey(ctx, AccessKey{ID: "AK1", User: "alice", Sealed: sealed, Access: "write", Scopes: []string{"photos/2024/"}}, ""))
	must(n.AddAccessKey(ctx, AccessKey{ID: "AK2", User: "bob", Sealed: sealed}, ""))
	if err := n.AddAccessKey(ctx, AccessKey{ID: "AK3", User: "mallory", Sealed: sealed}, ""); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("a key of nobody: %v", err)
	}
	if err := n.AddAccessKey(ctx, AccessKey{ID: "AK1", User: "alice", Sealed: sealed}, ""); !errors.Is(err, ErrAccessKeyExists) {
		t.Fatalf("a key ID twice: %v", err)
	}
	if err := n.AddAccessKey(ctx, AccessKey{ID: "AK4", User: "alice", Sealed: sealed}, "AK2"); !errors.Is(err, ErrNoSuchAccessKey) {
		t.Fatalf("rotating bob's key into alice's: %v", err)
	}
	must(n.AddAccessKey(ctx, AccessKey{ID: "AK5", User: "alice", Sealed: sealed, Access: "write", Scopes: []string{"photos/2024/"}}, "AK1"))
	if err := n.AddAccessKey(ctx, AccessKey{ID: "AK0", User: "alice"}, ""); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("a key without a secret: %v", err)
	}
	must(n.CreateOwnedBucket(ctx, "photos", "alice", time.Time{}))
	must(n.CreateOwnedBucket(ctx, "gone", "alice", time.Time{}))
	must(n.SetBucketPolicy(ctx, "photos", `{"Statement":[]}`))
	must(n.SetBucketPolicy(ctx, "gone", `{"Statement":[]}`))
	must(n.DeleteBucket(ctx, "gone"))
	if err := n.SetBucketPolicy(ctx, "nope", "{}"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("a policy of a missing bucket: %v", err)
	}
	must(n.UpdateUser(ctx, User{Name: "bob", Role: "readonly", Disabled: true}))
	must(n.RemoveUser(ctx, "bob"))
	if err := n.RemoveUser(ctx, "bob"); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("removing bob twice: %v", err)
	}
	must(n.RevokeAccessKey(ctx, "AK5"))
	if err := n.RevokeAccessKey(ctx, "AK5"); !errors.Is(err, ErrNoSuchAccessKey) {
		t.Fatalf("revoking twice: %v", err)
	}
	must(n.AddAccessKey(ctx, AccessKey{ID: "AK6", User: "alice", Sealed: sealed, Access: "read"}, ""))

	want, err := n.Directory()
	must(err)
	if len(want.Users) != 1 || want.Users[0].Name != "alice" || want.Users[0].Quota != 5<<30 {
		t.Fatalf("users %+v: want alice alone, with her quota", want.Users)
	}
	if len(want.Keys) != 1 || want.Keys[0].ID != "AK6" || want.Keys[0].Access != "read" || string(want.Keys[0].Sealed) != string(sealed) {
		t.Fatalf("keys %+v: want AK6 alone (bob's went with him, AK1 rotated, AK5 revoked)", want.Keys)
	}
	if len(want.Buckets) != 1 || want.Buckets[0].Owner != "alice" || len(want.Policies) != 1 || want.Policies["photos"] == "" {
		t.Fatalf("buckets %+v, policies %v: want photos of alice with its policy", want.Buckets, want.Policies)
	}

	closeNode(t, n)
	n = openNode(t, cfg)
	got, err := n.Directory()
	must(err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after a restart:\n%+v\nwant\n%+v", got, want)
	}
	must(n.raft.Snapshot().Error())
	closeNode(t, n)
	n = openNode(t, cfg)
	if got, err = n.Directory(); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after a snapshot and a restart: %v\n%+v\nwant\n%+v", err, got, want)
	}
}
