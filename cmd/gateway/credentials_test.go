package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateCredential(t *testing.T) {
	dir := t.TempDir()
	first, created, err := loadOrCreateCredential(dir)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	st, err := os.Stat(filepath.Join(dir, CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, want 0600", st.Mode().Perm())
	}
	again, created, err := loadOrCreateCredential(dir)
	if err != nil || created || again != first {
		t.Fatalf("second start must reuse the key: created=%v err=%v same=%v", created, err, again == first)
	}
	if len(first.AccessKey) != 20 || len(first.SecretKey) < 40 {
		t.Fatalf("weak generated credential: %d/%d chars", len(first.AccessKey), len(first.SecretKey))
	}
}

func TestShowNewCredential_SecretOnlyOnTerminal(t *testing.T) {
	cred := Credential{AccessKey: "IPASKEY", SecretKey: "the-secret-value"}
	var tty, pipe bytes.Buffer
	showNewCredential(&tty, true, cred, "/d")
	showNewCredential(&pipe, false, cred, "/d")
	if !strings.Contains(tty.String(), cred.SecretKey) {
		t.Fatal("a terminal must see the generated secret once")
	}
	if strings.Contains(pipe.String(), cred.SecretKey) || !strings.Contains(pipe.String(), "IPASKEY") {
		t.Fatalf("a non-terminal (service log) must get the key and the file, never the secret:\n%s", pipe.String())
	}
}

func TestLoadOrCreateCredential_CorruptFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CredentialsFile)
	os.WriteFile(path, []byte("not: [valid"), 0o600)
	_, _, err := loadOrCreateCredential(dir)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt credentials file: got %v, want an error naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "not: [valid" {
		t.Fatal("a corrupt credentials file was overwritten")
	}
}

// TestCredentialsEnv: `gateway credentials --env` prints export lines that a
// shell evaluates into the generated credential, region and endpoint; without
// --env the secret is not printed.
func TestCredentialsEnv(t *testing.T) {
	dir := t.TempDir()
	cred, _, err := loadOrCreateCredential(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"credentials", "--env", "--data-dir", dir, "--s3-addr", ":9100"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	sh := exec.Command("sh", "-c", out.String()+`printf '%s %s %s %s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_DEFAULT_REGION" "$AWS_ENDPOINT_URL"`)
	sh.Env = []string{"PATH=/usr/bin:/bin"}
	got, err := sh.Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := cred.AccessKey + " " + cred.SecretKey + " us-east-1 http://127.0.0.1:9100"; string(got) != want {
		t.Errorf("the shell got %q, want %q", got, want)
	}
	out.Reset()
	if code := run([]string{"credentials", "--data-dir", dir}, &out, &errOut); code != 0 || strings.Contains(out.String(), cred.SecretKey) || !strings.Contains(out.String(), cred.AccessKey) {
		t.Errorf("without --env: exit %d, %q", code, out.String())
	}
}
