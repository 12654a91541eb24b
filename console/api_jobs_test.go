package console

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ipas/ipas/admin"
)

// operator is a recorder that also retries jobs, tests alerts and keeps an
// upload history, as the daemon's Controller does.
type operator struct {
	recorder
	mu      sync.Mutex
	retried []string
	tested  int
}

func (o *operator) RetryJob(_ context.Context, id string) error {
	if id == "gone" {
		return fmt.Errorf("%w: no replication job %q", admin.ErrNotFound, id)
	}
	o.mu.Lock()
	o.retried = append(o.retried, id)
	o.mu.Unlock()
	return nil
}

func (o *operator) TestAlert(context.Context) (admin.AlertTest, error) {
	o.mu.Lock()
	o.tested++
	o.mu.Unlock()
	return admin.AlertTest{Channels: []admin.AlertChannel{{Name: "webhook https://hooks.example.com/x", OK: true}}}, nil
}

func (o *operator) RateHistory(context.Context) (admin.RateHistory, error) {
	return admin.RateHistory{End: time.Now(), IntervalSeconds: 60, Rates: []int64{10, 20}, Limits: []int64{0, admin.LimitPaused}}, nil
}

// TestAPI_RetryAlertHistory: retrying a job and testing the alerts are
// changes (sign-in and CSRF token needed, refused otherwise without reaching
// the daemon); the history is a read.
func TestAPI_RetryAlertHistory(t *testing.T) {
	op := &operator{}
	ts := newTestConsole(t, op, nil)
	c := newClient(t, ts.URL)
	if code, errCode := c.do("POST", "/api/v1/replication/retry", admin.RetryRequest{Job: "j1"}, nil); code != http.StatusUnauthorized {
		t.Fatalf("retry without a session: %d %s", code, errCode)
	}
	if code, _ := c.login(testKey, testSecret); code != 200 {
		t.Fatal("sign in")
	}
	csrf := c.csrf
	c.csrf = "not-the-token"
	for _, path := range []string{"/api/v1/replication/retry", "/api/v1/alerts/test"} {
		if code, errCode := c.do("POST", path, admin.RetryRequest{Job: "j1"}, nil); code != http.StatusForbidden || errCode != "InvalidCSRFToken" {
			t.Errorf("%s with a bad CSRF token: %d %s", path, code, errCode)
		}
	}
	op.mu.Lock()
	if len(op.retried) != 0 || op.tested != 0 {
		t.Fatalf("refused requests reached the daemon: %v, %d", op.retried, op.tested)
	}
	op.mu.Unlock()
	c.csrf = csrf

	if code, errCode := c.do("POST", "/api/v1/replication/retry", admin.RetryRequest{Job: "j1"}, nil); code != http.StatusNoContent {
		t.Fatalf("retry: %d %s", code, errCode)
	}
	if code, errCode := c.do("POST", "/api/v1/replication/retry", admin.RetryRequest{Job: "gone"}, nil); code != http.StatusNotFound || errCode != "NotFound" {
		t.Errorf("retry of a finished job: %d %s, want 404 NotFound", code, errCode)
	}
	if code, errCode := c.do("POST", "/api/v1/replication/retry", admin.RetryRequest{}, nil); code != http.StatusBadRequest {
		t.Errorf("retry without a job: %d %s, want 400", code, errCode)
	}
	var res admin.AlertTest
	if code, errCode := c.do("POST", "/api/v1/alerts/test", nil, &res); code != 200 || len(res.Channels) != 1 || !res.Channels[0].OK {
		t.Errorf("alert test: %d %s %+v", code, errCode, res)
	}
	var h admin.RateHistory
	if code, errCode := c.do("GET", "/api/v1/replication/history", nil, &h); code != 200 || len(h.Rates) != 2 || h.Limits[1] != admin.LimitPaused {
		t.Errorf("history: %d %s %+v", code, errCode, h)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if len(op.retried) != 1 || op.retried[0] != "j1" || op.tested != 1 {
		t.Errorf("the daemon got retries %v and %d alert tests", op.retried, op.tested)
	}
}
