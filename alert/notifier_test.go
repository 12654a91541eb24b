package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/testutil"
)

// statusFunc serves a status the test changes.
type statusFunc func() admin.Status

func (f statusFunc) Status(context.Context) (admin.Status, error) { return f(), nil }

type memStore struct {
	mu  sync.Mutex
	raw []byte
}

func (m *memStore) Load() ([]byte, error) { m.mu.Lock(); defer m.mu.Unlock(); return m.raw, nil }
func (m *memStore) Save(b []byte) error   { m.mu.Lock(); defer m.mu.Unlock(); m.raw = b; return nil }

// TestNotifier drives the Notifier with a fake clock and status through a
// real webhook server and a real SMTP server: an alert once to each, a
// failed delivery retried at the next check, a reminder, a resolution, no
// repeat after a restart, and a test alert.
func TestNotifier(t *testing.T) {
	hook := testutil.StartWebhook(t)
	smtpSrv := testutil.StartSMTP(t, "", "", false)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	var mu sync.Mutex
	free := int64(50)
	status := statusFunc(func() admin.Status {
		mu.Lock()
		defer mu.Unlock()
		return admin.Status{Time: now, Replication: admin.Replication{State: admin.StateIdle},
			Disk: &admin.Disk{Path: "/data", TotalBytes: 100, FreeBytes: free}}
	})
	cfg := DefaultConfig()
	cfg.Webhooks = []WebhookConfig{{URL: hook.URL + "/hook"}}
	cfg.Email = EmailConfig{Server: smtpSrv.Addr, From: "ipas@example.com", To: []string{"me@example.com"}, CAFile: smtpSrv.CAFile}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	store := &memStore{}
	newNotifier := func() *Notifier {
		n, err := New(cfg, "pi", status, store, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		n.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		return n
	}
	n := newNotifier()
	ctx := context.Background()
	step := func(d time.Duration, freeBytes int64) {
		t.Helper()
		mu.Lock()
		now, free = now.Add(d), freeBytes
		mu.Unlock()
		if err := n.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	events := func() []string {
		var out []string
		for _, r := range hook.Requests() {
			var no Notice
			json.Unmarshal(r.Body, &no)
			out = append(out, no.Event+":"+no.Kind)
		}
		return out
	}
	want := func(what string, hooks []string, mails int) {
		t.Helper()
		if got := events(); strings.Join(got, " ") != strings.Join(hooks, " ") {
			t.Errorf("%s: webhook got %v, want %v", what, got, hooks)
		}
		if got := len(smtpSrv.Mail()); got != mails {
			t.Errorf("%s: %d mails, want %d", what, got, mails)
		}
	}

	step(0, 50)
	want("healthy", nil, 0)
	if len(n.Active()) != 0 {
		t.Errorf("healthy: active %+v", n.Active())
	}

	hook.SetStatus(http.StatusInternalServerError)
	step(time.Minute, 5)
	want("disk full, webhook down", nil, 1)
	if a := n.Active(); len(a) != 1 || a[0].Kind != KindDiskFull || a[0].Summary != "the data disk is 95% full" {
		t.Errorf("active %+v", a)
	}
	hook.SetStatus(http.StatusOK)
	step(time.Minute, 5)
	want("webhook back", []string{"firing:disk-full"}, 1)
	step(time.Hour, 4)
	want("an hour on", []string{"firing:disk-full"}, 1)

	// A restart goes on from the saved state: nothing is sent again.
	n = newNotifier()
	step(time.Minute, 4)
	want("after a restart", []string{"firing:disk-full"}, 1)

	step(24*time.Hour, 4)
	want("a day on", []string{"firing:disk-full", "reminder:disk-full"}, 2)

	step(time.Minute, 50)
	want("cleared", []string{"firing:disk-full", "reminder:disk-full"}, 2)
	if a := n.Active(); len(a) != 1 || !a[0].Clearing {
		t.Errorf("clearing: active %+v", a)
	}
	step(DefaultResolveAfter, 50)
	want("resolved", []string{"firing:disk-full", "reminder:disk-full", "resolved:disk-full"}, 3)
	if len(n.Active()) != 0 {
		t.Errorf("resolved: active %+v", n.Active())
	}
	if m := smtpSrv.Mail()[2]; !strings.Contains(m.Data, "Subject: IPAS pi: resolved: the data disk is 96% full") {
		t.Errorf("resolution mail:\n%s", m.Data)
	}

	res, err := n.Test(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Channels) != 2 || !res.Channels[0].OK || !res.Channels[1].OK {
		t.Errorf("test alert: %+v", res)
	}
	want("test", []string{"firing:disk-full", "reminder:disk-full", "resolved:disk-full", "test:test"}, 4)
}

// TestNotifier_GivesUp: a channel that stays down gets MaxAttempts tries,
// then the notice is dropped; other channels are not held up.
func TestNotifier_GivesUp(t *testing.T) {
	down := testutil.StartWebhook(t)
	down.SetStatus(http.StatusBadGateway)
	up := testutil.StartWebhook(t)
	cfg := DefaultConfig()
	cfg.Webhooks = []WebhookConfig{{URL: down.URL}, {URL: up.URL}}
	st := statusFunc(func() admin.Status {
		return admin.Status{Time: time.Now(), Replication: admin.Replication{State: admin.StateError, Error: "AccessDenied"}}
	})
	n, err := New(cfg, "pi", st, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	n.MaxAttempts = 3
	for range 5 {
		n.Check(context.Background())
	}
	if len(up.Requests()) != 1 {
		t.Errorf("the working webhook got %d notices, want 1", len(up.Requests()))
	}
	n.mu.Lock()
	left := len(n.outbox)
	n.mu.Unlock()
	if left != 0 {
		t.Errorf("%d deliveries still queued after MaxAttempts", left)
	}
	if res, err := n.Test(context.Background()); err != nil || res.Channels[0].OK || !strings.Contains(res.Channels[0].Error, "HTTP 502") || !res.Channels[1].OK {
		t.Errorf("test alert: %+v, %v", res, err)
	}
}
