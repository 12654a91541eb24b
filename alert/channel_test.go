package alert

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
)

func testNotice() Notice {
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return Notice{Event: EventFiring, Kind: KindDiskFull, Summary: "the data disk is 93% full",
		Detail: "/data holds 93 GiB of 100 GiB; 7 GiB are free — free space.", Since: since, Time: since, Host: "pi"}
}

// TestWebhook_Formats sends a notice in each format to a real HTTP server
// and reads it back as each service would.
func TestWebhook_Formats(t *testing.T) {
	h := testutil.StartWebhook(t)
	n := testNotice()
	ctx := context.Background()

	send := func(cfg WebhookConfig) testutil.WebhookRequest {
		t.Helper()
		if err := cfg.validate("webhooks[0]"); err != nil {
			t.Fatal(err)
		}
		before := len(h.Requests())
		if err := NewWebhook(cfg, http.DefaultClient).Send(ctx, n); err != nil {
			t.Fatal(err)
		}
		got := h.Requests()
		if len(got) != before+1 {
			t.Fatalf("%d requests, want %d", len(got), before+1)
		}
		r := got[len(got)-1]
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		return r
	}

	r := send(WebhookConfig{URL: h.URL + "/hook", Token: "s3cret"})
	var js struct {
		Event, Alert, Title, Message, Host string
		Since                              time.Time
	}
	if err := json.Unmarshal(r.Body, &js); err != nil {
		t.Fatal(err)
	}
	if r.Path != "/hook" || js.Event != "firing" || js.Alert != KindDiskFull || js.Host != "pi" || !js.Since.Equal(n.Since) ||
		js.Title != "IPAS pi: the data disk is 93% full" || !strings.Contains(js.Message, "7 GiB are free — free space") {
		t.Errorf("json: path %s, body %s", r.Path, r.Body)
	}
	if a := r.Header.Get("Authorization"); a != "Bearer s3cret" {
		t.Errorf("json: Authorization %q", a)
	}

	r = send(WebhookConfig{URL: h.URL + "/alerts/ipas-topic", Format: FormatNtfy, Token: "tk_1"})
	var nt ntfyMessage
	if err := json.Unmarshal(r.Body, &nt); err != nil {
		t.Fatal(err)
	}
	if r.Path != "/alerts/" || nt.Topic != "ipas-topic" || nt.Title != n.Title() || nt.Priority != 4 || nt.Tags[0] != "warning" || !strings.Contains(nt.Message, "free space") {
		t.Errorf("ntfy: path %s, body %s", r.Path, r.Body)
	}
	if a := r.Header.Get("Authorization"); a != "Bearer tk_1" {
		t.Errorf("ntfy: Authorization %q", a)
	}

	r = send(WebhookConfig{URL: h.URL + "/message", Format: FormatGotify, Token: "AppToken"})
	var gm gotifyMessage
	if err := json.Unmarshal(r.Body, &gm); err != nil {
		t.Fatal(err)
	}
	if r.Path != "/message" || gm.Title != n.Title() || gm.Priority != 8 || !strings.Contains(gm.Message, "free space") {
		t.Errorf("gotify: path %s, body %s", r.Path, r.Body)
	}
	if k := r.Header.Get("X-Gotify-Key"); k != "AppToken" || r.Header.Get("Authorization") != "" {
		t.Errorf("gotify: X-Gotify-Key %q, Authorization %q", k, r.Header.Get("Authorization"))
	}
}

// TestWebhook_ErrorsHideSecrets: a refused or unreachable webhook is an
// error that says why, without the token in the URL's query.
func TestWebhook_ErrorsHideSecrets(t *testing.T) {
	h := testutil.StartWebhook(t)
	h.SetStatus(http.StatusForbidden)
	err := NewWebhook(WebhookConfig{URL: h.URL + "/message?token=SECRETTOKEN", Format: FormatGotify}, http.DefaultClient).Send(context.Background(), testNotice())
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Errorf("refused: %v", err)
	}
	h.Close()
	err = NewWebhook(WebhookConfig{URL: h.URL + "/x?token=SECRETTOKEN"}, http.DefaultClient).Send(context.Background(), testNotice())
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("unreachable: %v", err)
	}
}

// TestEmail sends through a real SMTP server: STARTTLS with AUTH PLAIN,
// and implicit TLS; the message decodes to the notice.
func TestEmail(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		security := SecurityStartTLS
		if implicit {
			security = SecurityTLS
		}
		t.Run(security, func(t *testing.T) {
			srv := testutil.StartSMTP(t, "ipas", "mail-password", implicit)
			cfg := EmailConfig{Server: srv.Addr, Security: security, Username: "ipas", Password: "mail-password",
				From: "IPAS <ipas@example.com>", To: []string{"me@example.com", "you@example.com"}, CAFile: srv.CAFile}
			if err := cfg.validate("email"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := NewEmail(cfg).Send(ctx, testNotice()); err != nil {
				t.Fatal(err)
			}
			m := srv.Wait(t, 1, 10*time.Second)[0]
			if !m.TLS || m.Auth != "ipas" || m.From != "ipas@example.com" || strings.Join(m.To, ",") != "me@example.com,you@example.com" {
				t.Errorf("envelope: %+v", m)
			}
			msg, err := mail.ReadMessage(strings.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if subject != "IPAS pi: the data disk is 93% full" || msg.Header.Get("X-IPAS-Alert") != KindDiskFull ||
				!strings.Contains(string(body), "7 GiB are free — free space.") {
				t.Errorf("message: subject %q, headers %v, body %q", subject, msg.Header, body)
			}
		})
	}
}

// TestEmail_Refusals: a wrong password and a server without STARTTLS are
// errors that name the cause, and send nothing.
func TestEmail_Refusals(t *testing.T) {
	srv := testutil.StartSMTP(t, "ipas", "mail-password", false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := EmailConfig{Server: srv.Addr, Username: "ipas", Password: "wrong", From: "ipas@example.com", To: []string{"me@example.com"}, CAFile: srv.CAFile}
	err := NewEmail(cfg).Send(ctx, testNotice())
	if err == nil || !strings.Contains(err.Error(), "auth as ipas") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
	cfg.Password, cfg.CAFile = "mail-password", ""
	if err := NewEmail(cfg).Send(ctx, testNotice()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v", err)
	}
	if n := len(srv.Mail()); n != 0 {
		t.Errorf("%d messages delivered, want none", n)
	}
}
