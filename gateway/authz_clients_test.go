//go:build clients

package gateway

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/users"
)

// TestUsersAWSCLI has three users drive the gateway with the real aws CLI:
// each lists only their own buckets, another's bucket answers AccessDenied,
// the write-only key copies a backup up but can neither delete nor replace
// it, a policy shares one prefix read-only, and an unsigned request
// (--no-sign-request) reads only what a public policy allows.
func TestUsersAWSCLI(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		testutil.MissingTool(t, "aws", "apt-get install -y awscli")
	}
	g := newUsersGateway(t)
	ctx := ctxT(t)
	cred := func(name string, role authz.Role) users.Credential {
		c, err := g.dir.AddUser(ctx, name, role)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	alice, bob, carol := cred("alice", authz.RoleUser), cred("bob", authz.RoleUser), cred("carol", authz.RoleReadOnly)
	laptop, err := g.dir.AddKey(ctx, "alice", users.KeySpec{Access: string(authz.AccessWrite)})
	if err != nil {
		t.Fatal(err)
	}
	aws := func(c *users.Credential, args ...string) (string, bool) {
		t.Helper()
		env := []string{"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
		if c != nil {
			env = append(env, "AWS_ACCESS_KEY_ID="+c.AccessKey, "AWS_SECRET_ACCESS_KEY="+c.SecretKey)
		} else {
			args = append(args, "--no-sign-request")
		}
		// Not ctx: some 30 runs of a Python program outlast the test's 60 s.
		cctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, append(args, "--endpoint-url", g.URL)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err == nil
	}
	ok := func(c *users.Credential, args ...string) string {
		t.Helper()
		out, good := aws(c, args...)
		if !good {
			t.Fatalf("aws %v as %v: %s", args, c, out)
		}
		return out
	}
	denied := func(c *users.Credential, args ...string) {
		t.Helper()
		who := "anonymous"
		if c != nil {
			who = c.User
		}
		if out, good := aws(c, args...); good || !strings.Contains(out, "AccessDenied") && !strings.Contains(out, "Forbidden") {
			t.Fatalf("aws %v as %s: succeeded or failed otherwise, want AccessDenied: %s", args, who, out)
		}
	}
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}

	ok(&alice, "s3", "mb", "s3://alice-docs")
	ok(&bob, "s3", "mb", "s3://bob-games")
	ok(&alice, "s3", "cp", file("tax.pdf", "tax 2024"), "s3://alice-docs/tax/2024.pdf")
	ok(&alice, "s3", "cp", file("trip.jpg", "holiday photo"), "s3://alice-docs/shared/trip.jpg")
	denied(&carol, "s3", "mb", "s3://carols")

	if out := ok(&alice, "s3", "ls"); !strings.Contains(out, "alice-docs") || strings.Contains(out, "bob-games") {
		t.Fatalf("alice's buckets:\n%s", out)
	}
	if out := ok(&bob, "s3", "ls"); strings.Contains(out, "alice-docs") || !strings.Contains(out, "bob-games") {
		t.Fatalf("bob's buckets:\n%s", out)
	}
	if out := ok(&carol, "s3", "ls"); strings.TrimSpace(out) != "" {
		t.Fatalf("carol's buckets:\n%s", out)
	}
	denied(&bob, "s3", "ls", "s3://alice-docs/")
	denied(&bob, "s3", "cp", "s3://alice-docs/tax/2024.pdf", filepath.Join(dir, "stolen"))
	denied(&bob, "s3", "rm", "s3://alice-docs/tax/2024.pdf")
	denied(&bob, "s3", "rb", "s3://alice-docs")

	// The backup tool's key: up, yes; delete or replace, no.
	ok(&laptop, "s3", "cp", file("backup.tar", "monday"), "s3://alice-docs/backup/monday.tar")
	denied(&laptop, "s3", "cp", file("evil.tar", "encrypted by ransomware"), "s3://alice-docs/backup/monday.tar")
	denied(&laptop, "s3", "rm", "s3://alice-docs/backup/monday.tar")
	ok(&alice, "s3", "cp", "s3://alice-docs/backup/monday.tar", filepath.Join(dir, "back.tar"))
	if b, _ := os.ReadFile(filepath.Join(dir, "back.tar")); string(b) != "monday" {
		t.Fatalf("the backup after the write-only key's attempts: %q", b)
	}

	// Share shared/ read-only with bob; make shared/ public too.
	policy := file("policy.json", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["bob"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::alice-docs/shared/*"}]}`)
	denied(&bob, "s3api", "put-bucket-policy", "--bucket", "alice-docs", "--policy", "file://"+policy)
	ok(&alice, "s3api", "put-bucket-policy", "--bucket", "alice-docs", "--policy", "file://"+policy)
	if out := ok(&alice, "s3api", "get-bucket-policy", "--bucket", "alice-docs"); !strings.Contains(out, "shared/*") {
		t.Fatalf("get-bucket-policy:\n%s", out)
	}
	ok(&bob, "s3", "cp", "s3://alice-docs/shared/trip.jpg", filepath.Join(dir, "trip-copy.jpg"))
	if b, _ := os.ReadFile(filepath.Join(dir, "trip-copy.jpg")); string(b) != "holiday photo" {
		t.Fatalf("bob's copy of the shared photo: %q", b)
	}
	if out := ok(&bob, "s3", "ls", "s3://alice-docs/shared/"); !strings.Contains(out, "trip.jpg") {
		t.Fatalf("bob lists the share:\n%s", out)
	}
	denied(&bob, "s3", "cp", "s3://alice-docs/tax/2024.pdf", filepath.Join(dir, "stolen"))
	denied(&bob, "s3", "cp", file("x", "x"), "s3://alice-docs/shared/x")
	denied(nil, "s3", "cp", "s3://alice-docs/shared/trip.jpg", filepath.Join(dir, "anon.jpg"))

	bad := file("bad.json", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"mallory"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-docs/*"}}`)
	if out, good := aws(&alice, "s3api", "put-bucket-policy", "--bucket", "alice-docs", "--policy", "file://"+bad); good || !strings.Contains(out, "MalformedPolicy") || !strings.Contains(out, "mallory") {
		t.Fatalf("a policy naming an unknown user: %s", out)
	}
	public := file("public.json", `{"Statement":[
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-docs/shared/*"}]}`)
	ok(&alice, "s3api", "put-bucket-policy", "--bucket", "alice-docs", "--policy", "file://"+public)
	ok(nil, "s3", "cp", "s3://alice-docs/shared/trip.jpg", filepath.Join(dir, "anon.jpg"))
	if b, _ := os.ReadFile(filepath.Join(dir, "anon.jpg")); string(b) != "holiday photo" {
		t.Fatalf("the anonymous copy: %q", b)
	}
	denied(nil, "s3", "cp", "s3://alice-docs/tax/2024.pdf", filepath.Join(dir, "anon.pdf"))
	ok(&alice, "s3api", "delete-bucket-policy", "--bucket", "alice-docs")
	denied(nil, "s3", "cp", "s3://alice-docs/shared/trip.jpg", filepath.Join(dir, "anon2.jpg"))
}
