package main

import (
	"bytes"
	"os"
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
