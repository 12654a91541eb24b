package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsersPassphrase: the passphrase comes from IPAS_USERS_PASSPHRASE, else
// from a file only its owner can read; a bad one is refused with the fix,
// and no message repeats it.
func TestUsersPassphrase(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", "correct horse battery staple\n", 0o600)
	for _, c := range []struct {
		name, env, file, want, problem string
	}{
		{"none", "", "", "", ""},
		{"a file", "", good, "correct horse battery staple", ""},
		{"the environment first", "another long passphrase", good, "another long passphrase", ""},
		{"readable by others", "", file("open", "correct horse battery staple", 0o644), "", "chmod 600"},
		{"too short", "", file("short", "hunter2\n", 0o600), "", "at least 12"},
		{"too short in the environment", "hunter2", "", "", "IPAS_USERS_PASSPHRASE"},
		{"missing", "", filepath.Join(dir, "missing"), "", "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(EnvUsersPassphrase, c.env)
			got, err := usersPassphrase(c.file, "remote.users_passphrase_file")
			switch {
			case c.problem == "" && (err != nil || got != c.want):
				t.Fatalf("%q, %v; want %q", got, err, c.want)
			case c.problem != "" && (err == nil || !strings.Contains(err.Error(), c.problem)):
				t.Fatalf("%v, want an error saying %q", err, c.problem)
			case err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "horse")):
				t.Fatalf("the error repeats the passphrase: %v", err)
			}
		})
	}
}
