package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/console"
	"github.com/ipas/ipas/gateway"
)

// consoleSession is a signed-in browser of the real daemon's console.
type consoleSession struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func signInConsole(t *testing.T, base, accessKey, secret string) *consoleSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &consoleSession{t: t, base: base, http: &http.Client{Jar: jar, Timeout: adminWait}}
	var s console.Session
	if code := c.call("POST", "/api/v1/login", console.LoginRequest{AccessKey: accessKey, Secret: secret}, &s); code != 200 {
		t.Fatalf("console sign-in as %q: %d", accessKey, code)
	}
	c.csrf = s.CSRFToken
	return c
}

func (c *consoleSession) call(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(console.CSRFHeader, c.csrf)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("console %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			c.t.Fatalf("console %s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// TestConsole_SameActionsAsTheCLI drives the real daemon's console: a pause
// and a bandwidth set in the console show in `gateway status`, a resume by
// the CLI shows in the console; the generated console password is a 0600
// bcrypt file that signs in, and is not printed off a terminal.
func TestConsole_SameActionsAsTheCLI(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	p := startServe(t, adminTestEnv, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	if !strings.HasPrefix(p.console, "http://127.0.0.1:") {
		t.Fatalf("ready line names console %q", p.console)
	}
	pwPath := filepath.Join(dataDir, ConsolePasswordFile)
	fi, err := os.Stat(pwPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("console password file: %v %v, want mode 0600", fi, err)
	}
	if out := p.stderr.String(); !strings.Contains(out, "console password: not printed") {
		t.Fatalf("first start did not say where the console password is:\n%s", out)
	}

	c := signInConsole(t, p.console, adminTestKey, adminTestSecret)
	if code := c.call("POST", "/api/v1/replication/pause", nil, nil); code != 204 {
		t.Fatalf("console pause: %d", code)
	}
	if code := c.call("PUT", "/api/v1/replication/bandwidth", console.BandwidthRequest{Bandwidth: "300KiB/s"}, nil); code != 204 {
		t.Fatalf("console bandwidth: %d", code)
	}
	st := cliStatus(t, adminTestEnv, p.endpoint)
	if st.Replication.State != admin.StatePaused || st.Replication.Bandwidth != "300KiB/s" || st.Replication.Limit != 300<<10 {
		t.Fatalf("gateway status after the console's pause and bandwidth: %+v", st.Replication)
	}
	if st.Disk == nil || st.Disk.TotalBytes <= 0 || st.Disk.FreeBytes <= 0 || st.Disk.Path != dataDir {
		t.Fatalf("gateway status disk: %+v", st.Disk)
	}

	cliOK(t, adminTestEnv, "replication", "resume", "--endpoint", p.endpoint)
	var cst admin.Status
	if code := c.call("GET", "/api/v1/status", nil, &cst); code != 200 || cst.Replication.ManualPause {
		t.Fatalf("console status after `gateway replication resume`: %d %+v", code, cst.Replication)
	}

	// The password file is what the console checks: replacing it changes the
	// password at once.
	hash, err := console.HashPassword("a password of my own")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pwPath, hash, 0o600); err != nil {
		t.Fatal(err)
	}
	pc := signInConsole(t, p.console, "", "a password of my own")
	var s console.Session
	if code := pc.call("GET", "/api/v1/session", nil, &s); code != 200 || s.User != console.PasswordUser {
		t.Fatalf("password session: %d %+v", code, s)
	}
}

// TestConsole_Off: console.address "" serves no console and generates no password.
func TestConsole_Off(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ipas.yaml")
	os.WriteFile(cfgPath, []byte("console:\n  address: \"\"\n"), 0o600)
	// An empty IPAS_CONSOLE_ADDR (replacing the helper's) leaves the file's "" in force.
	env := append([]string{}, adminTestEnv...)
	p := startServe(t, append(env, EnvConsoleAddress+"="), "--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0")
	if p.console != "" {
		t.Fatalf("console served at %q with console.address \"\"", p.console)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", ConsolePasswordFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a console password was generated with the console off: %v", err)
	}
}

func TestConsoleConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		console, s3 string
		ok          bool
	}{
		{":9001", ":9000", true},
		{"", ":9000", true},
		{"127.0.0.1:0", "127.0.0.1:0", true},
		{"10.0.0.1:9000", "10.0.0.2:9000", true},
		{"localhost", ":9000", false},
		{":9000", ":9000", false},
		{"127.0.0.1:9000", ":9000", false},
	} {
		c := DefaultConfig()
		c.Console.Address, c.S3.Address = tc.console, tc.s3
		err := c.Validate()
		var ce *ConfigError
		switch {
		case tc.ok && err != nil:
			t.Errorf("console %q, s3 %q: %v", tc.console, tc.s3, err)
		case !tc.ok && (!errors.As(err, &ce) || ce.Field != "console.address" || ce.Fix == ""):
			t.Errorf("console %q, s3 %q: got %v, want a console.address ConfigError with a fix", tc.console, tc.s3, err)
		}
	}
	c := DefaultConfig()
	if err := ApplyEnv(&c, func(k string) string {
		if k == EnvConsoleAddress {
			return "127.0.0.1:9101"
		}
		return ""
	}); err != nil || c.Console.Address != "127.0.0.1:9101" {
		t.Fatalf("%s: %v, address %q", EnvConsoleAddress, err, c.Console.Address)
	}
}

// TestConsole_TLS: with s3.tls the console speaks HTTPS with the same
// certificate, and its session cookie is Secure.
func TestConsole_TLS(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ipas.yaml")
	os.WriteFile(cfgPath, []byte("s3:\n  tls:\n    self_signed: true\n"), 0o600)
	dataDir := filepath.Join(dir, "data")
	p := startServe(t, adminTestEnv, "--config", cfgPath, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	if !strings.HasPrefix(p.console, "https://") {
		t.Fatalf("console at %q with s3.tls set", p.console)
	}
	pem, err := os.ReadFile(filepath.Join(dataDir, gateway.SelfSignedCertFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: adminWait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body, _ := json.Marshal(console.LoginRequest{AccessKey: adminTestKey, Secret: adminTestSecret})
	resp, err := hc.Post(p.console+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("sign in over HTTPS with the S3 endpoint's certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Fatalf("sign in over HTTPS: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}
