package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/users"
)

// TestRestore_KeysWithPassphrase: a daemon with remote.users_passphrase_file
// puts its users' secrets in the remote index sealed under the passphrase.
// A restore from the real versitygw with a wrong passphrase brings back the
// objects and the users but no key, and says why; with the right one the
// restored daemon accepts the old keys, scope and all. Neither the remote
// nor either data directory holds a secret or the passphrase in clear (gzip
// opened, base64 looked for too), and no output shows them.
func TestRestore_KeysWithPassphrase(t *testing.T) {
	vgw := testutil.StartVersityGW(t, restoreBucket)
	s := newRestoreSetup(t, vgw.Endpoint, vgw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	work := t.TempDir()
	const passphrase = "correct horse battery staple 42"
	passFile, wrongFile := filepath.Join(work, "passphrase"), filepath.Join(work, "wrong")
	for f, p := range map[string]string{passFile: passphrase + "\n", wrongFile: "incorrect horse battery staple\n"} {
		if err := os.WriteFile(f, []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(work, "ipas.yaml")
	if err := os.WriteFile(cfg, []byte("remote: {path_style: true, prefix: "+restorePrefix+", index_interval: 0s, users_passphrase_file: "+passFile+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(work, "data")

	p := startServe(t, s.env, "--config", cfg, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	credential := func(args ...string) users.Credential {
		var c users.Credential
		if err := json.Unmarshal([]byte(cliOK(t, s.env, append(args, "--json", "--endpoint", p.endpoint)...)), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	alice := credential("user", "add", "alice")
	laptop := credential("key", "add", "alice", "--access", "write", "--scope", "photos/laptop/")
	ac := s3Client(p.endpoint, alice.AccessKey, alice.SecretKey)
	if _, err := ac.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	photo := []byte("alice's photo, restored byte for byte")
	if err := putBody(ac, "photos", "laptop/beach.jpg", photo); err != nil {
		t.Fatal(err)
	}
	s.waitReplicated(t, p)
	s.stop(t, p)
	secrets := []string{alice.SecretKey, laptop.SecretKey, passphrase}
	noSecretIn(t, "the remote", vgw.Dir, secrets)
	noSecretIn(t, "the data directory", dataDir, secrets)
	noSecretInText(t, "the daemon's log", p.stderr.String(), secrets)

	restoreWith := func(t *testing.T, args ...string) restoreRun {
		t.Helper()
		if err := os.RemoveAll(dataDir); err != nil {
			t.Fatal(err)
		}
		run := s.restore(t, dataDir, args...)
		if run.code != 0 || !strings.Contains(run.stderr, "0 failed") {
			t.Fatalf("restore %v: %s", args, run)
		}
		noSecretInText(t, "the restore's output", run.stdout+run.stderr, secrets)
		return run
	}
	// serveRestored starts the restored daemon, with the passphrase: its
	// snapshots carry the secrets again. The photo reads back to the admin.
	serveRestored := func(t *testing.T) *gatewayProcess {
		t.Helper()
		p := startServe(t, s.env, "--config", cfg, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
		if b, err := getBody(s3Client(p.endpoint, restoreAK, restoreSK), "photos", "laptop/beach.jpg"); err != nil || !bytes.Equal(b, photo) {
			t.Fatalf("the restored photo: %q, %v", b, err)
		}
		return p
	}

	t.Run("wrong passphrase", func(t *testing.T) {
		run := restoreWith(t, "--users-passphrase-file", wrongFile)
		if !strings.Contains(run.stderr, "users restored (with their buckets and policies, without access keys): alice") ||
			!strings.Contains(run.stderr, "access keys not restored: users: the passphrase does not open the sealed secrets") {
			t.Fatalf("the summary does not say the keys stayed behind and why:\n%s", run.stderr)
		}
		p := serveRestored(t)
		// Killed: a clean stop would upload a snapshot of this keyless
		// archive over the one the next restore needs.
		defer func() { p.cmd.Process.Kill(); p.cmd.Wait() }()
		for _, c := range []users.Credential{alice, laptop} {
			if _, err := getBody(s3Client(p.endpoint, c.AccessKey, c.SecretKey), "photos", "laptop/beach.jpg"); s3Code(err) != "InvalidAccessKeyId" {
				t.Fatalf("a key restored with a wrong passphrase: %v", err)
			}
		}
		if out := cliOK(t, s.env, "user", "list", "--endpoint", p.endpoint); !strings.Contains(out, "alice") {
			t.Fatalf("alice is not back:\n%s", out)
		}
	})

	t.Run("right passphrase", func(t *testing.T) {
		run := restoreWith(t, "--users-passphrase-file", passFile)
		if !strings.Contains(run.stderr, "access keys restored: 2") {
			t.Fatalf("the summary does not count the keys:\n%s", run.stderr)
		}
		p := serveRestored(t)
		if b, err := getBody(s3Client(p.endpoint, alice.AccessKey, alice.SecretKey), "photos", "laptop/beach.jpg"); err != nil || !bytes.Equal(b, photo) {
			t.Fatalf("alice's old key after the restore: %q, %v", b, err)
		}
		lc := s3Client(p.endpoint, laptop.AccessKey, laptop.SecretKey)
		if err := putBody(lc, "photos", "laptop/new.jpg", []byte("new")); err != nil {
			t.Fatalf("the scoped write-only key after the restore: %v", err)
		}
		if err := putBody(lc, "photos", "laptop/beach.jpg", []byte("encrypted")); s3Code(err) != "AccessDenied" {
			t.Fatalf("the write-only key overwrote after the restore: %v", err)
		}
		if err := putBody(lc, "photos", "elsewhere.jpg", []byte("x")); s3Code(err) != "AccessDenied" {
			t.Fatalf("the scoped key wrote outside its scope after the restore: %v", err)
		}
		s.stop(t, p)
		noSecretIn(t, "the restored data directory", dataDir, secrets)
		noSecretIn(t, "the remote after the restored daemon's snapshot", vgw.Dir, secrets)
		noSecretInText(t, "the restored daemon's log", p.stderr.String(), secrets)
	})

	t.Run("no passphrase", func(t *testing.T) {
		run := restoreWith(t)
		if !strings.Contains(run.stderr, "--users-passphrase-file") || strings.Contains(run.stderr, "access keys restored") {
			t.Fatalf("the summary does not say how to bring the keys back:\n%s", run.stderr)
		}
	})
}

// noSecretIn fails if a file under dir holds one of secrets in clear or in
// base64, also inside gzip.
func noSecretIn(t *testing.T, what, dir string, secrets []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if plain, err := io.ReadAll(zr); err == nil {
				b = append(b, plain...)
			}
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) || bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString([]byte(s)))) {
				t.Errorf("%s: %s holds a secret in clear", what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func noSecretInText(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s shows a secret", what)
		}
	}
}
