package authz

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func known(n string) bool { return n == "bob" || n == "carol" || n == "alice" }

func mustPolicy(t *testing.T, text string) *Policy {
	t.Helper()
	p, err := ParsePolicy(text, "photos", known)
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

func TestDecide(t *testing.T) {
	shared := mustPolicy(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["bob"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::photos/2024/*"},
		{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/keep/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/public/*"}]}`)
	photos := Bucket{Name: "photos", Exists: true, Owner: "alice", Policy: shared}
	alice := Principal{User: "alice", Role: RoleUser, Access: AccessFull}
	bob := Principal{User: "bob", Role: RoleUser, Access: AccessFull}
	reader := Principal{User: "carol", Role: RoleReadOnly, Access: AccessFull}
	laptop := Principal{User: "alice", Role: RoleUser, Access: AccessWrite}
	scoped := Principal{User: "alice", Role: RoleUser, Access: AccessRead, Scopes: []string{"photos/2024/"}}
	admin := Principal{User: "admin", Role: RoleAdmin, Access: AccessFull}
	for _, c := range []struct {
		name   string
		p      Principal
		action Action
		key    string
		allow  bool
		noOver bool
	}{
		{"owner reads", alice, GetObject, "a.jpg", true, false},
		{"owner deletes", alice, DeleteObject, "a.jpg", true, false},
		{"policy deny beats owner", alice, DeleteObject, "keep/a.jpg", false, false},
		{"owner deletes bucket", alice, DeleteBucket, "", true, false},
		{"other reads unshared", bob, GetObject, "a.jpg", false, false},
		{"other reads shared prefix", bob, GetObject, "2024/a.jpg", true, false},
		{"other lists shared prefix", bob, ListBucket, "2024/", true, false},
		{"other lists whole bucket", bob, ListBucket, "", false, false},
		{"other writes shared prefix", bob, PutObject, "2024/a.jpg", false, false},
		{"other deletes bucket", bob, DeleteBucket, "", false, false},
		{"other reads policy", bob, GetBucketPolicy, "", false, false},
		{"readonly reads public", reader, GetObject, "public/x", true, false},
		{"readonly deletes bucket", reader, DeleteBucket, "", false, false},
		{"anonymous reads public", Anonymous, GetObject, "public/x", true, false},
		{"anonymous reads private", Anonymous, GetObject, "a.jpg", false, false},
		{"anonymous lists", Anonymous, ListBucket, "", false, false},
		{"anonymous lists buckets", Anonymous, ListAllMyBuckets, "", false, false},
		{"write key puts, no overwrite", laptop, PutObject, "b.jpg", true, true},
		{"write key reads", laptop, GetObject, "b.jpg", true, true},
		{"write key deletes", laptop, DeleteObject, "b.jpg", false, false},
		{"write key deletes bucket", laptop, DeleteBucket, "", false, false},
		{"scoped key in scope", scoped, GetObject, "2024/x", true, false},
		{"scoped key out of scope", scoped, GetObject, "2023/x", false, false},
		{"scoped read key writes", scoped, PutObject, "2024/x", false, false},
		{"admin deletes", admin, DeleteObject, "keep/a.jpg", true, false},
		{"admin policy", admin, PutBucketPolicy, "", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.p, c.action, photos, c.key)
			if d.Allow != c.allow || d.NoOverwrite != c.noOver {
				t.Fatalf("Decide = %+v, want allow %v noOverwrite %v", d, c.allow, c.noOver)
			}
			if !d.Allow && d.Reason == "" {
				t.Fatal("a denial without a reason")
			}
		})
	}
	if d := Decide(reader, CreateBucket, Bucket{Name: "new"}, ""); d.Allow {
		t.Fatalf("a readonly user created a bucket: %+v", d)
	}
	if d := Decide(bob, GetObject, Bucket{Name: "nope"}, "x"); !d.Allow {
		t.Fatalf("a missing bucket must reach the handler (NoSuchBucket): %+v", d)
	}
	if d := Decide(Anonymous, GetObject, Bucket{Name: "nope"}, "x"); d.Allow {
		t.Fatalf("an anonymous request learns that a bucket does not exist: %+v", d)
	}
	if !Visible(bob, photos) || Visible(reader, photos) || !Visible(admin, photos) || Visible(Anonymous, photos) {
		t.Fatal("Visible: shared to bob, not to carol, all to admins, none to anonymous")
	}
	if !shared.Public() {
		t.Fatal("a policy with an anonymous Allow is public")
	}
}

func TestParsePolicyRefusals(t *testing.T) {
	for _, c := range []struct {
		name, text, code, reason string
	}{
		{"bad json", `{"Statement": [`, "MalformedPolicy", "not valid JSON"},
		{"unknown principal", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"mallory"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, "MalformedPolicy", `"mallory": no such user`},
		{"unknown action", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObjectTagging","Resource":"arn:aws:s3:::photos/*"}}`, "MalformedPolicy", "invalid action"},
		{"other bucket", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}}`, "MalformedPolicy", "invalid resource"},
		{"condition", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`, "NotImplemented", "Condition"},
		{"effect", `{"Statement":{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, "MalformedPolicy", "Effect"},
		{"too large", `{"Statement":[` + strings.Repeat(" ", MaxPolicySize) + `]}`, "MalformedPolicy", "at most"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePolicy(c.text, "photos", known)
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Code != c.code || !strings.Contains(pe.Reason, c.reason) {
				t.Fatalf("err = %v, want %s containing %q", err, c.code, c.reason)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{{"*", "", true}, {"a*", "abc", true}, {"a*c", "abbc", true}, {"a?c", "abc", true}, {"a*d", "abc", false}, {"s3:get*", "s3:getobject", true}, {"", "x", false}} {
		if got := match(c.p, c.s); got != c.ok {
			t.Errorf("match(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

// BenchmarkDecide is one decision against a policy of 100 principals, as
// the gateway takes it for every request.
func BenchmarkDecide(b *testing.B) {
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("user%03d", i)
	}
	p, err := ParsePolicy(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/locked/*"},
		{"Effect":"Allow","Principal":{"AWS":["`+strings.Join(names, `","`)+`"]},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::photos/*"}]}`,
		"photos", func(string) bool { return true })
	if err != nil {
		b.Fatal(err)
	}
	bucket := Bucket{Name: "photos", Exists: true, Owner: "user000", Policy: p}
	writer := Principal{User: "user099", Role: RoleUser, Access: AccessFull}
	for b.Loop() {
		if !Decide(writer, PutObject, bucket, "2024/img.jpg").Allow {
			b.Fatal("denied")
		}
	}
}
