package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/testutil"
)

const testToken = "scrape-token-0123456789"

func get(t *testing.T, h http.Handler, path, token string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// scrape parses /metrics with Prometheus' own text parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, h, PathMetrics, testToken)
	if code != http.StatusOK {
		t.Fatalf("scrape: %d %s", code, body)
	}
	return testutil.ParseMetrics(t, body)
}

func TestHandler_TokenAndHealthWords(t *testing.T) {
	m := New(nil)
	var notReady error
	h := Handler(m, Access{Token: testToken}, func(context.Context) error { return notReady }, zerolog.Nop())
	for _, tc := range []struct {
		path, token string
		code        int
		body        string
	}{
		{PathMetrics, "", 401, "unauthorized\n"},
		{PathMetrics, "wrong-token", 401, "unauthorized\n"},
		{PathHealthz, "", 200, "ok\n"},
		{PathReadyz, "", 200, "ready\n"},
		{"/", "", 404, ""},
		{"/metrics/x", testToken, 404, ""},
	} {
		code, body := get(t, h, tc.path, tc.token)
		if code != tc.code || (tc.body != "" && body != tc.body) {
			t.Errorf("GET %s (token %q): %d %q, want %d %q", tc.path, tc.token, code, body, tc.code, tc.body)
		}
	}
	if code, body := get(t, h, PathMetrics, testToken); code != 200 || !strings.Contains(body, "ipas_journal_commit_duration_seconds") {
		t.Errorf("with the token: %d\n%s", code, body)
	}
	notReady = errors.New("journal closed: /var/lib/ipas secret detail")
	if code, body := get(t, h, PathReadyz, ""); code != 503 || body != "not ready\n" {
		t.Errorf("not ready: %d %q, want 503 and only the word", code, body)
	}
	public := Handler(m, Access{Public: true}, nil, zerolog.Nop())
	if code, _ := get(t, public, PathMetrics, ""); code != 200 {
		t.Errorf("public: %d", code)
	}
	if code, _ := get(t, Handler(m, Access{}, nil, zerolog.Nop()), PathMetrics, ""); code != 401 {
		t.Errorf("no token configured, not public: %d, want 401", code)
	}
}

// TestInstrumentS3_CountsAndKeepsSendfile: the request counter, duration and
// bytes move with a request, and a GET's file still reaches the
// ResponseWriter's ReadFrom (sendfile).
func TestInstrumentS3_CountsAndKeepsSendfile(t *testing.T) {
	m := New(nil)
	file := filepath.Join(t.TempDir(), "blob")
	os.WriteFile(file, bytes.Repeat([]byte("x"), 5000), 0o600)
	s3 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusContinue) // informational: not the status
			w.WriteHeader(http.StatusOK)
		case http.MethodGet:
			f, _ := os.Open(file)
			defer f.Close()
			if _, ok := w.(io.ReaderFrom); !ok {
				t.Error("the instrumented writer hides ReadFrom")
			}
			io.Copy(w, f)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	})
	h := m.InstrumentS3(s3, func(r *http.Request) string {
		switch r.Method {
		case http.MethodPut:
			return "PutObject"
		case http.MethodGet:
			return "GetObject"
		}
		return "Other"
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/b/k", strings.NewReader(strings.Repeat("y", 1234)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/b/k")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodDelete, srv.URL+"/b/k", nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()

	fams := scrape(t, Handler(m, Access{Token: testToken}, nil, zerolog.Nop()))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ipas_s3_requests_total", []string{"operation", "PutObject", "status", "200"}, 1},
		{"ipas_s3_requests_total", []string{"operation", "GetObject", "status", "200"}, 1},
		{"ipas_s3_requests_total", []string{"operation", "Other", "status", "403"}, 1},
		{"ipas_s3_received_bytes_total", []string{"operation", "PutObject"}, 1234},
		{"ipas_s3_sent_bytes_total", []string{"operation", "GetObject"}, 5000},
		{"ipas_s3_request_duration_seconds", []string{"operation", "PutObject"}, 1},
	} {
		if got := testutil.MetricValue(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// TestState_ReadAtScrape: the state func is read at each scrape; a part
// that is nil is left out, not reported as zero.
func TestState_ReadAtScrape(t *testing.T) {
	st := State{Archive: &ArchiveState{Objects: 3, Bytes: 300, Jobs: 1, PendingObjects: 1, PendingBytes: 100,
		OldestPending: time.Now().Add(-time.Hour)}}
	m := New(func() State { return st })
	m.RemoteError("SlowDown")
	m.PartRetried()
	m.ObserveCommit(3 * time.Millisecond)
	h := Handler(m, Access{Token: testToken}, nil, zerolog.Nop())
	fams := scrape(t, h)
	if got := testutil.MetricValue(fams, "ipas_replication_pending_bytes"); got != 100 {
		t.Errorf("pending bytes %v", got)
	}
	if got := testutil.MetricValue(fams, "ipas_replication_oldest_pending_age_seconds"); got < 3600 || got > 3700 {
		t.Errorf("oldest pending age %v, want about an hour", got)
	}
	if got := testutil.MetricValue(fams, "ipas_drop_files_ingested_total"); got != -1 {
		t.Errorf("drop metrics without a watcher: %v, want none", got)
	}
	if testutil.MetricValue(fams, "ipas_remote_errors_total", "code", "SlowDown") != 1 || testutil.MetricValue(fams, "ipas_replication_part_retries_total") != 1 ||
		testutil.MetricValue(fams, "ipas_journal_commit_duration_seconds") != 1 {
		t.Error("event counters did not move")
	}
	st.Drop = &DropState{Ingested: 2, Skipped: 1}
	st.Archive.PendingBytes = 0
	fams = scrape(t, h)
	if testutil.MetricValue(fams, "ipas_drop_files_ingested_total") != 2 || testutil.MetricValue(fams, "ipas_drop_files_skipped_total") != 1 ||
		testutil.MetricValue(fams, "ipas_replication_pending_bytes") != 0 {
		t.Error("the second scrape did not read the state again")
	}
}

// TestRemoteError_BoundedCodes: a remote that makes codes up cannot grow
// the registry past maxRemoteCodes series.
func TestRemoteError_BoundedCodes(t *testing.T) {
	m := New(nil)
	for i := range 200 {
		m.RemoteError("Code" + strings.Repeat("x", i))
	}
	fams := scrape(t, Handler(m, Access{Token: testToken}, nil, zerolog.Nop()))
	if n := len(fams["ipas_remote_errors_total"].Metric); n > maxRemoteCodes+1 {
		t.Fatalf("%d series", n)
	}
	if got := testutil.MetricValue(fams, "ipas_remote_errors_total", "code", otherCode); got != 200-maxRemoteCodes {
		t.Fatalf("Other = %v, want %d", got, 200-maxRemoteCodes)
	}
}
