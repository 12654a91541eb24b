package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/gateway/sigv4"
)

const (
	testKey      = "CONSOLETESTKEY"
	testSecret   = "console-test-secret"
	testPassword = "correct horse battery staple"
)

// recorder is a Controller that records the actions and reports what they did.
type recorder struct {
	mu        sync.Mutex
	paused    bool
	bandwidth string
	polls     int
	objects   int64
}

func (r *recorder) Status(context.Context) (admin.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.polls++
	st := admin.Status{Time: time.Now(), Replication: admin.Replication{State: admin.StateIdle, Bandwidth: r.bandwidth, ManualPause: r.paused}}
	if r.paused {
		st.Replication.State = admin.StatePaused
	}
	st.Journal.Objects = r.objects
	return st, nil
}

func (r *recorder) Pause(context.Context) error {
	r.mu.Lock()
	r.paused = true
	r.mu.Unlock()
	return nil
}
func (r *recorder) Resume(context.Context) error {
	r.mu.Lock()
	r.paused = false
	r.mu.Unlock()
	return nil
}
func (r *recorder) SetBandwidth(_ context.Context, spec string) error {
	if spec == "fast please" {
		return fmt.Errorf("%w: bandwidth %q: not a rate", admin.ErrInvalid, spec)
	}
	r.mu.Lock()
	r.bandwidth = spec
	r.mu.Unlock()
	return nil
}

func (r *recorder) Reconcile(context.Context, bool) (admin.Reconcile, error) {
	return admin.Reconcile{}, nil
}
func (r *recorder) Scrub(context.Context, bool) (admin.Scrub, error) { return admin.Scrub{}, nil }

func (r *recorder) state() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused, r.bandwidth
}

// newTestConsole serves a console over rec on a real loopback listener.
func newTestConsole(t *testing.T, rec admin.Controller, adjust func(*Server)) *httptest.Server {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "console-password")
	hash, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, hash, 0o600); err != nil {
		t.Fatal(err)
	}
	s := New(rec, Login{Credentials: sigv4.StaticCredentials{testKey: testSecret}, PasswordFile: pw}, zerolog.Nop())
	s.PollInterval = 20 * time.Millisecond
	if adjust != nil {
		adjust(s)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// client is a browser-like HTTP client: a cookie jar and the CSRF token.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// do sends a request with a JSON body (when body is not nil) and the CSRF
// token, and returns the status and the decoded error code, if any.
func (c *client) do(method, path string, body any, out any) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var eb admin.ErrorBody
		if err := json.Unmarshal(raw, &eb); err != nil {
			c.t.Fatalf("%s %s: %d with a body that is not an error document: %q", method, path, resp.StatusCode, raw)
		}
		return resp.StatusCode, eb.Error.Code
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v: %q", method, path, err, raw)
		}
	}
	return resp.StatusCode, ""
}

func (c *client) login(accessKey, secret string) (int, string) {
	var s Session
	code, errCode := c.do("POST", "/api/v1/login", LoginRequest{AccessKey: accessKey, Secret: secret}, &s)
	c.csrf = s.CSRFToken
	return code, errCode
}

// TestAPI_RefusedWithoutSignIn: every endpoint but sign-in answers 401 to a
// browser without a session, and changes nothing.
func TestAPI_RefusedWithoutSignIn(t *testing.T) {
	rec := &recorder{}
	ts := newTestConsole(t, rec, nil)
	c := newClient(t, ts.URL)
	for _, ep := range []struct{ method, path string }{
		{"GET", "/api/v1/session"}, {"GET", "/api/v1/status"}, {"GET", "/api/v1/events"},
		{"POST", "/api/v1/logout"}, {"POST", "/api/v1/replication/pause"},
		{"POST", "/api/v1/replication/resume"}, {"PUT", "/api/v1/replication/bandwidth"},
	} {
		var body any
		if ep.path == "/api/v1/replication/bandwidth" {
			body = BandwidthRequest{Bandwidth: "1KiB/s"}
		}
		if code, errCode := c.do(ep.method, ep.path, body, nil); code != http.StatusUnauthorized || errCode != "NotSignedIn" {
			t.Errorf("%s %s without a session: %d %s, want 401 NotSignedIn", ep.method, ep.path, code, errCode)
		}
	}
	if paused, bw := rec.state(); paused || bw != "" {
		t.Fatalf("refused requests changed the daemon: paused %v, bandwidth %q", paused, bw)
	}
	// The page itself and its assets need no session: they hold no data.
	for _, p := range []string{"/", "/static/app.js", "/static/app.css"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
}

// TestAPI_SignInAndActions signs in both ways and drives every action.
func TestAPI_SignInAndActions(t *testing.T) {
	rec := &recorder{objects: 7}
	ts := newTestConsole(t, rec, nil)

	for _, tc := range []struct{ name, key, secret, user string }{
		{"credential", testKey, testSecret, testKey},
		{"password", "", testPassword, PasswordUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, ts.URL)
			if code, errCode := c.login(tc.key, tc.secret); code != 200 {
				t.Fatalf("sign in: %d %s", code, errCode)
			}
			var s Session
			if code, _ := c.do("GET", "/api/v1/session", nil, &s); code != 200 || s.User != tc.user || s.CSRFToken != c.csrf {
				t.Fatalf("session: %d %+v", code, s)
			}
			var st admin.Status
			if code, _ := c.do("GET", "/api/v1/status", nil, &st); code != 200 || st.Journal.Objects != 7 {
				t.Fatalf("status: %d %+v", code, st)
			}
			if code, errCode := c.do("POST", "/api/v1/replication/pause", nil, nil); code != 204 {
				t.Fatalf("pause: %d %s", code, errCode)
			}
			if paused, _ := rec.state(); !paused {
				t.Fatal("pause answered 204 but the daemon is not paused")
			}
			if code, errCode := c.do("POST", "/api/v1/replication/resume", nil, nil); code != 204 {
				t.Fatalf("resume: %d %s", code, errCode)
			}
			if code, errCode := c.do("PUT", "/api/v1/replication/bandwidth", BandwidthRequest{Bandwidth: " 2MiB/s "}, nil); code != 204 {
				t.Fatalf("bandwidth: %d %s", code, errCode)
			}
			if paused, bw := rec.state(); paused || bw != "2MiB/s" {
				t.Fatalf("after resume and bandwidth: paused %v, bandwidth %q", paused, bw)
			}
			if code, errCode := c.do("PUT", "/api/v1/replication/bandwidth", BandwidthRequest{Bandwidth: "fast please"}, nil); code != 400 || errCode != "InvalidRequest" {
				t.Fatalf("bad bandwidth: %d %s, want 400 InvalidRequest", code, errCode)
			}
			if code, _ := c.do("POST", "/api/v1/logout", nil, nil); code != 204 {
				t.Fatalf("logout: %d", code)
			}
			if code, _ := c.do("GET", "/api/v1/status", nil, nil); code != 401 {
				t.Fatalf("status after logout: %d, want 401", code)
			}
		})
	}
}

// TestAPI_WrongCredentials: a wrong secret, an unknown key and a wrong
// password all fail alike, without a cookie.
func TestAPI_WrongCredentials(t *testing.T) {
	ts := newTestConsole(t, &recorder{}, nil)
	for _, tc := range [][2]string{{testKey, "wrong-secret"}, {"NOSUCHKEY", testSecret}, {"", "wrong password"}, {testKey, ""}, {"", testSecret}} {
		c := newClient(t, ts.URL)
		if code, errCode := c.login(tc[0], tc[1]); code != 401 || errCode != "InvalidCredentials" {
			t.Errorf("sign in as %q: %d %s, want 401 InvalidCredentials", tc[0], code, errCode)
		}
		if code, _ := c.do("GET", "/api/v1/status", nil, nil); code != 401 {
			t.Errorf("after a failed sign-in as %q the status answered %d", tc[0], code)
		}
	}
}

// TestAPI_CSRF: a signed-in browser's change without the token, with another
// session's token, or from another origin is refused and changes nothing.
func TestAPI_CSRF(t *testing.T) {
	rec := &recorder{}
	ts := newTestConsole(t, rec, nil)
	c := newClient(t, ts.URL)
	if code, _ := c.login(testKey, testSecret); code != 200 {
		t.Fatal("sign in failed")
	}
	other := newClient(t, ts.URL)
	other.login("", testPassword)
	good := c.csrf
	for _, token := range []string{"", other.csrf, good + "x"} {
		c.csrf = token
		if code, errCode := c.do("POST", "/api/v1/replication/pause", nil, nil); code != 403 || errCode != "InvalidCSRFToken" {
			t.Errorf("pause with token %q: %d %s, want 403 InvalidCSRFToken", token, code, errCode)
		}
		if code, _ := c.do("PUT", "/api/v1/replication/bandwidth", BandwidthRequest{Bandwidth: "1KiB/s"}, nil); code != 403 {
			t.Errorf("bandwidth with token %q: %d, want 403", token, code)
		}
		if code, _ := c.do("POST", "/api/v1/logout", nil, nil); code != 403 {
			t.Errorf("logout with token %q: %d, want 403", token, code)
		}
	}
	if paused, bw := rec.state(); paused || bw != "" {
		t.Fatalf("refused changes changed the daemon: paused %v, bandwidth %q", paused, bw)
	}
	// The right token from another site's page is refused too.
	c.csrf = good
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/replication/pause", nil)
	req.Header.Set(CSRFHeader, good)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("cross-origin pause: %d, want 403", resp.StatusCode)
	}
	if code, _ := c.do("POST", "/api/v1/replication/pause", nil, nil); code != 204 {
		t.Fatalf("pause with the session's own token: %d", code)
	}
}

// TestAPI_LoginRateLimited: after the burst, attempts from one address are
// refused with 429 and Retry-After, even with the right secret.
func TestAPI_LoginRateLimited(t *testing.T) {
	ts := newTestConsole(t, &recorder{}, func(s *Server) { s.LoginBurst = 3; s.LoginInterval = time.Hour })
	c := newClient(t, ts.URL)
	for i := 0; i < 3; i++ {
		if code, _ := c.login(testKey, "guess"); code != 401 {
			t.Fatalf("attempt %d: %d, want 401", i+1, code)
		}
	}
	body := strings.NewReader(`{"access_key":"` + testKey + `","secret":"` + testSecret + `"}`)
	resp, err := http.Post(ts.URL+"/api/v1/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th attempt: %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Fatal("a rate-limited sign-in set a cookie")
	}
}

// TestAPI_Cookie: the session cookie is HttpOnly and SameSite=Strict, and
// Secure over TLS.
func TestAPI_Cookie(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		s := New(&recorder{}, Login{Credentials: sigv4.StaticCredentials{testKey: testSecret}}, zerolog.Nop())
		ts := httptest.NewUnstartedServer(s.Handler())
		if useTLS {
			ts.StartTLS()
		} else {
			ts.Start()
		}
		body := strings.NewReader(`{"access_key":"` + testKey + `","secret":"` + testSecret + `"}`)
		resp, err := ts.Client().Post(ts.URL+"/api/v1/login", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ts.Close()
		cookies := resp.Cookies()
		if len(cookies) != 1 {
			t.Fatalf("tls %v: %d cookies", useTLS, len(cookies))
		}
		ck := cookies[0]
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != useTLS || ck.MaxAge <= 0 {
			t.Fatalf("tls %v: cookie %+v", useTLS, ck)
		}
	}
}

// TestAPI_LoginNeedsJSON: an HTML form post (what another site can make a
// browser send) is not a sign-in.
func TestAPI_LoginNeedsJSON(t *testing.T) {
	ts := newTestConsole(t, &recorder{}, nil)
	resp, err := http.Post(ts.URL+"/api/v1/login", "application/x-www-form-urlencoded",
		strings.NewReader("access_key="+testKey+"&secret="+testSecret))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("form sign-in: %d, want 415", resp.StatusCode)
	}
}

// readEvent returns the next event's name and data from an SSE stream.
func readEvent(t *testing.T, r *bufio.Reader) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func openEvents(t *testing.T, c *client) (*bufio.Reader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/events", nil)
	resp, err := (&http.Client{Jar: c.http.Jar}).Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %v %v", resp, err)
	}
	return bufio.NewReader(resp.Body), func() { cancel(); resp.Body.Close() }
}
