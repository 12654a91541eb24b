package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
)

// hub is the one status poll that feeds every open page: it runs only while
// a page is subscribed, reads the Controller once per interval whatever the
// number of pages, and passes a status on only when it changed, so that an
// idle console costs one cheap read per interval and no traffic.
type hub struct {
	ctrl     admin.Controller
	diag     admin.Diagnostics // nil: no log to follow
	interval time.Duration
	log      zerolog.Logger
	polls    atomic.Int64 // Status calls made, for tests

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	stop   chan struct{} // non-nil while the poll runs
	key    []byte        // the last status without its time, to see changes
	latest []byte        // the last status sent, JSON
	logSeq uint64        // the newest log line announced
}

// subscriber receives the latest status, and the sequence number of the
// newest log line; a slow page skips both, never blocks the others.
type subscriber struct {
	ch   chan []byte
	logs chan uint64
}

func newHub(ctrl admin.Controller, interval time.Duration, log zerolog.Logger) *hub {
	return &hub{ctrl: ctrl, interval: interval, log: log, subs: map[*subscriber]struct{}{}}
}

// subscribe adds a page and returns the status to show it first (nil until
// the first poll, which then arrives on the channel).
func (h *hub) subscribe() (*subscriber, []byte) {
	sub := &subscriber{ch: make(chan []byte, 1), logs: make(chan uint64, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[sub] = struct{}{}
	if h.stop == nil {
		h.stop = make(chan struct{})
		go h.poll(h.stop)
	}
	return sub, h.latest
}

// unsubscribe removes a page; the last one out stops the poll.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, sub)
	if len(h.subs) == 0 && h.stop != nil {
		close(h.stop)
		h.stop, h.key, h.latest, h.logSeq = nil, nil, nil, 0
	}
}

func (h *hub) poll(stop chan struct{}) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*h.interval)
		st, err := h.ctrl.Status(ctx)
		cancel()
		h.polls.Add(1)
		if err != nil {
			h.log.Debug().Err(err).Msg("console: status poll")
		} else {
			h.publish(stop, st)
		}
		h.pollLog(stop)
		select {
		case <-t.C:
		case <-stop:
			return
		}
	}
}

// pollLog tells every page when the log has new lines: a page showing the
// log fetches them (GET /api/v1/log?after=), at the level it shows.
func (h *hub) pollLog(stop chan struct{}) {
	if h.diag == nil {
		return
	}
	h.mu.Lock()
	after := h.logSeq
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*h.interval)
	page, err := h.diag.Log(ctx, admin.LogQuery{After: after, Limit: 1})
	cancel()
	if err != nil || page.Last == after {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != stop {
		return
	}
	h.logSeq = page.Last
	for sub := range h.subs {
		select {
		case <-sub.logs:
		default:
		}
		sub.logs <- page.Last
	}
}

// publish passes st to every page when it differs from the last one in
// anything but its time.
func (h *hub) publish(stop chan struct{}, st admin.Status) {
	at := st.Time
	st.Time = time.Time{}
	key, err := json.Marshal(st)
	if err != nil {
		h.log.Error().Err(err).Msg("console: encode status")
		return
	}
	st.Time = at
	payload, _ := json.Marshal(st) // as above: it encoded a moment ago
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != stop || bytes.Equal(key, h.key) {
		return
	}
	h.key, h.latest = key, payload
	for sub := range h.subs {
		select {
		case <-sub.ch: // drop the one this page has not read yet
		default:
		}
		sub.ch <- payload
	}
}

// handleEvents streams "status" events to a signed-in page until it goes,
// the session ends ("signed-out") or the server stops. The stream does not
// keep the session alive.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, err := r.Cookie(CookieName)
	if err != nil {
		writeError(w, errNotSignedIn)
		return
	}
	ss, ok := s.sessions.get(c.Value, false)
	if !ok {
		writeError(w, errNotSignedIn)
		return
	}
	if n := s.streams.Add(1); n > int64(s.MaxStreams) {
		s.streams.Add(-1)
		writeError(w, &apiError{http.StatusServiceUnavailable, "TooManyStreams", "too many console pages are open; close one"})
		return
	}
	defer s.streams.Add(-1)
	sub, first := s.hub.subscribe()
	defer s.hub.unsubscribe(sub)

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.KeepAlive)) // not every writer has deadlines
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 3000\n\n") || (first != nil && !send("event: status\ndata: %s\n\n", first)) {
		return
	}
	keep := time.NewTicker(s.KeepAlive)
	defer keep.Stop()
	expiry := time.NewTimer(time.Until(ss.expiry(s.IdleTimeout, s.SessionLifetime)))
	defer expiry.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ss.done:
			send("event: signed-out\ndata: {}\n\n")
			return
		case <-expiry.C:
			if _, ok := s.sessions.get(ss.id, false); !ok {
				send("event: signed-out\ndata: {}\n\n")
				return
			}
			expiry.Reset(time.Until(ss.expiry(s.IdleTimeout, s.SessionLifetime)))
		case payload := <-sub.ch:
			if !send("event: status\ndata: %s\n\n", payload) {
				return
			}
		case seq := <-sub.logs:
			if !send("event: log\ndata: {\"last\":%d}\n\n", seq) {
				return
			}
		case <-keep.C:
			if !send(": keep-alive\n\n") {
				return
			}
		}
	}
}
