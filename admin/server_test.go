package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/gateway/sigv4"
)

const (
	testKey    = "ADMINTESTKEY"
	testSecret = "admin-test-secret"
	testRegion = "us-east-1"
)

// fakeControl records what the API asked for.
type fakeControl struct {
	mu         sync.Mutex
	paused     bool
	bandwidth  string
	reconciles int // passes started
	scrubs     int
}

func (f *fakeControl) Status(context.Context) (Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := StateIdle
	if f.paused {
		st = StatePaused
	}
	return Status{Replication: Replication{State: st, Bandwidth: f.bandwidth}}, nil
}
func (f *fakeControl) Pause(context.Context) error {
	f.mu.Lock()
	f.paused = true
	f.mu.Unlock()
	return nil
}
func (f *fakeControl) Resume(context.Context) error {
	f.mu.Lock()
	f.paused = false
	f.mu.Unlock()
	return nil
}
func (f *fakeControl) SetBandwidth(_ context.Context, spec string) error {
	if strings.Contains(spec, "bogus") {
		return fmt.Errorf("bandwidth %q: %w", spec, ErrInvalid)
	}
	f.mu.Lock()
	f.bandwidth = spec
	f.mu.Unlock()
	return nil
}

func (f *fakeControl) Reconcile(_ context.Context, start bool) (Reconcile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if start {
		f.reconciles++
	}
	return Reconcile{Running: &ReconcileRun{Run: Run{Trigger: "request"}, Checked: int64(f.reconciles)}}, nil
}

func (f *fakeControl) Scrub(_ context.Context, start bool) (Scrub, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if start {
		f.scrubs++
	}
	return Scrub{Last: &ScrubRun{Blobs: int64(f.scrubs)}}, nil
}

// s3Stub stands for the S3 gateway behind Mount.
var s3Stub = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusTeapot)
	io.WriteString(w, "s3:"+r.URL.Path)
})

func newTestServer(t *testing.T, domain string) (*httptest.Server, *fakeControl) {
	t.Helper()
	v := sigv4.NewVerifier(sigv4.StaticCredentials{testKey: testSecret})
	v.Region = testRegion
	ctrl := &fakeControl{bandwidth: "unlimited"}
	srv := httptest.NewServer(Mount(NewHandler(ctrl, v, zerolog.Nop()), s3Stub, domain))
	t.Cleanup(srv.Close)
	return srv, ctrl
}

func TestClientRoundTrip(t *testing.T) {
	srv, ctrl := newTestServer(t, "")
	c := &Client{Endpoint: srv.URL, Region: testRegion, AccessKey: testKey, SecretKey: testSecret}
	ctx := context.Background()
	if err := c.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetBandwidth(ctx, "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Replication.State != StatePaused || st.Replication.Bandwidth != "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited" {
		t.Fatalf("status after pause and bandwidth: %+v", st.Replication)
	}
	if err := c.Resume(ctx); err != nil || ctrl.paused {
		t.Fatalf("resume: %v, paused %v", err, ctrl.paused)
	}
	err = c.SetBandwidth(ctx, "bogus")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("an invalid bandwidth gave %v, want ErrInvalid naming it", err)
	}
}

// POST starts a pass, GET only reports; other methods are refused with the
// methods that work.
func TestPassEndpoints(t *testing.T) {
	srv, ctrl := newTestServer(t, "")
	c := &Client{Endpoint: srv.URL, Region: testRegion, AccessKey: testKey, SecretKey: testSecret}
	ctx := context.Background()
	rec, err := c.Reconcile(ctx, true)
	if err != nil || rec.Running == nil || rec.Running.Checked != 1 {
		t.Fatalf("start reconcile: %+v, %v", rec, err)
	}
	if rec, err = c.Reconcile(ctx, false); err != nil || ctrl.reconciles != 1 {
		t.Fatalf("GET reconcile started a pass (%d started), %v", ctrl.reconciles, err)
	}
	sc, err := c.Scrub(ctx, true)
	if err != nil || sc.Last == nil || sc.Last.Blobs != 1 || ctrl.scrubs != 1 {
		t.Fatalf("start scrub: %+v, %v", sc, err)
	}
	err = c.do(ctx, http.MethodPut, PathScrub, nil, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusMethodNotAllowed || !strings.Contains(apiErr.Message, "GET, POST") {
		t.Fatalf("PUT scrub: %v, want 405 naming GET, POST", err)
	}
}

func TestRefusals(t *testing.T) {
	srv, ctrl := newTestServer(t, "")
	ctx := context.Background()
	good := &Client{Endpoint: srv.URL, Region: testRegion, AccessKey: testKey, SecretKey: testSecret}

	forged := &Client{Endpoint: srv.URL, Region: testRegion, AccessKey: testKey, SecretKey: "not-the-secret"}
	if err := forged.Pause(ctx); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v, want SignatureDoesNotMatch", err)
	}
	unknown := &Client{Endpoint: srv.URL, Region: testRegion, AccessKey: "NOSUCHKEY", SecretKey: testSecret}
	if err := unknown.Pause(ctx); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "InvalidAccessKeyId") {
		t.Errorf("unknown key: %v, want InvalidAccessKeyId", err)
	}
	if ctrl.paused {
		t.Fatal("a refused request paused replication")
	}

	// Unsigned requests, to every path, known or not.
	for _, path := range []string{PathStatus, PathPause, "/_ipas/v1/nothing"} {
		resp, err := http.Post(srv.URL+path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"AccessDenied"`) {
			t.Errorf("unsigned POST %s: %d %s, want 403 AccessDenied", path, resp.StatusCode, body)
		}
	}

	// A signed request whose body is swapped after signing.
	req, err := good.Request(ctx, http.MethodPut, PathBandwidth, []byte("1MiB/s"))
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader([]byte("9MiB/s"))) // same length: only the hash can tell
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || ctrl.bandwidth != "unlimited" {
		t.Errorf("swapped body: status %d, bandwidth %q; want 400 and no change", resp.StatusCode, ctrl.bandwidth)
	}

	// Signed, but with an unsigned payload.
	req, _ = good.Request(ctx, http.MethodPost, PathPause, nil)
	req.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || ctrl.paused {
		t.Errorf("UNSIGNED-PAYLOAD: status %d, paused %v; want 403, not paused", resp.StatusCode, ctrl.paused)
	}

	// The wrong method on a known path.
	err = good.do(ctx, http.MethodGet, PathPause, nil, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET pause: %v, want 405", err)
	}
}

func TestMountLeavesS3Alone(t *testing.T) {
	srv, _ := newTestServer(t, "s3.home.arpa")
	for _, tc := range []struct {
		host, path string
		toS3       bool
	}{
		{"", "/photos/_ipas/v1/status", true},     // a key in a bucket
		{"", "/_ipasx/v1/status", true},           // not the prefix
		{"", PathStatus, false},                   // the API
		{"photos.s3.home.arpa", PathStatus, true}, // virtual host: key "_ipas/v1/status"
		{"s3.home.arpa", PathStatus, false},       // the domain itself is path style
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusTeapot; got != tc.toS3 {
			t.Errorf("%s%s: went to S3 %v, want %v", tc.host, tc.path, got, tc.toS3)
		}
	}
}

func TestClientNotRunning(t *testing.T) {
	srv := httptest.NewServer(s3Stub)
	addr := srv.URL
	srv.Close()
	c := &Client{Endpoint: addr, Region: testRegion, AccessKey: testKey, SecretKey: testSecret}
	if _, err := c.Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("closed port: %v, want ErrNotRunning", err)
	}
}
