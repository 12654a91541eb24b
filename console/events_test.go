package console

import (
	"bufio"
	"encoding/json"
	"testing"
	"time"

	"github.com/ipas/ipas/admin"
)

// nextStatus reads events until a "status" one and decodes it.
func nextStatus(t *testing.T, r *bufio.Reader) admin.Status {
	t.Helper()
	for {
		name, data := readEvent(t, r)
		if name != "status" {
			continue
		}
		var st admin.Status
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			t.Fatalf("status event: %v: %q", err, data)
		}
		return st
	}
}

// TestEvents_SharedPollLiveUpdates: three open pages each get the status at
// once and every change after, from one poll: the Controller is read once per
// interval whatever the number of pages, and not at all once they close.
func TestEvents_SharedPollLiveUpdates(t *testing.T) {
	rec := &recorder{objects: 1}
	var srv *Server
	ts := newTestConsole(t, rec, func(s *Server) { srv = s })
	var streams []*bufio.Reader
	var closers []func()
	for i := 0; i < 3; i++ {
		c := newClient(t, ts.URL)
		c.login(testKey, testSecret)
		r, closeFn := openEvents(t, c)
		streams, closers = append(streams, r), append(closers, closeFn)
	}
	for i, r := range streams {
		if st := nextStatus(t, r); st.Journal.Objects != 1 {
			t.Fatalf("page %d first status: %d objects, want 1", i, st.Journal.Objects)
		}
	}
	start, before := time.Now(), srv.hub.polls.Load()
	rec.mu.Lock()
	rec.objects = 2
	rec.mu.Unlock()
	for i, r := range streams {
		if st := nextStatus(t, r); st.Journal.Objects != 2 {
			t.Fatalf("page %d after a put: %d objects, want 2", i, st.Journal.Objects)
		}
	}
	time.Sleep(10 * srv.PollInterval)
	polls, intervals := srv.hub.polls.Load()-before, int64(time.Since(start)/srv.PollInterval)
	if polls > intervals+2 {
		t.Fatalf("%d status reads in %d intervals with 3 pages open: the poll is not shared", polls, intervals)
	}
	for _, c := range closers {
		c()
	}
	time.Sleep(5 * srv.PollInterval)
	idle := srv.hub.polls.Load()
	time.Sleep(10 * srv.PollInterval)
	if n := srv.hub.polls.Load() - idle; n != 0 {
		t.Fatalf("%d status reads with no page open", n)
	}
}

// TestEvents_QuietWhenUnchanged: a status that did not change is not sent
// again (only its time moves), so an idle page receives nothing.
func TestEvents_QuietWhenUnchanged(t *testing.T) {
	rec := &recorder{}
	var srv *Server
	ts := newTestConsole(t, rec, func(s *Server) { srv = s; s.KeepAlive = time.Hour })
	c := newClient(t, ts.URL)
	c.login(testKey, testSecret)
	r, closeFn := openEvents(t, c)
	defer closeFn()
	nextStatus(t, r)
	got := make(chan admin.Status, 1)
	go func() { got <- nextStatus(t, r) }()
	select {
	case st := <-got:
		t.Fatalf("an unchanged status was sent again: %+v", st)
	case <-time.After(15 * srv.PollInterval):
	}
	rec.Pause(t.Context())
	select {
	case st := <-got:
		if st.Replication.State != admin.StatePaused {
			t.Fatalf("after pause the page got state %q", st.Replication.State)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a pause never reached the open page")
	}
}

// TestEvents_EndOnSignOut: signing out ends the session's open streams.
func TestEvents_EndOnSignOut(t *testing.T) {
	ts := newTestConsole(t, &recorder{}, nil)
	c := newClient(t, ts.URL)
	c.login("", testPassword)
	r, closeFn := openEvents(t, c)
	defer closeFn()
	nextStatus(t, r)
	if code, _ := c.do("POST", "/api/v1/logout", nil, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	for {
		if name, _ := readEvent(t, r); name == "signed-out" {
			return
		}
	}
}
