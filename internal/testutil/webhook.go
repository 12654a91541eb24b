package testutil

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// WebhookRequest is one request a WebhookServer took.
type WebhookRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// WebhookServer is a real HTTP server on loopback that records every
// request it accepts; it answers 200, or the status SetStatus gave (and
// then records nothing).
type WebhookServer struct {
	*httptest.Server
	mu     sync.Mutex
	got    []WebhookRequest
	status int
}

// StartWebhook starts a WebhookServer that stops with the test.
func StartWebhook(t testing.TB) *WebhookServer {
	h := &WebhookServer{status: http.StatusOK}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.status == http.StatusOK {
			h.got = append(h.got, WebhookRequest{r.URL.Path, r.Header.Clone(), body})
		}
		w.WriteHeader(h.status)
		io.WriteString(w, "answer of the test server\n")
	}))
	t.Cleanup(h.Close)
	return h
}

// Requests returns the requests accepted so far.
func (h *WebhookServer) Requests() []WebhookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]WebhookRequest(nil), h.got...)
}

// SetStatus makes the server answer code from now on.
func (h *WebhookServer) SetStatus(code int) {
	h.mu.Lock()
	h.status = code
	h.mu.Unlock()
}

// WaitFor polls the requests until ok holds of them, failing the test
// after timeout.
func (h *WebhookServer) WaitFor(t testing.TB, what string, timeout time.Duration, ok func([]WebhookRequest) bool) []WebhookRequest {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		got := h.Requests()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook server: %s not seen within %s; got %d requests", what, timeout, len(got))
		}
	}
}
