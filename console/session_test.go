package console

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSession_Expiry: a session ends after IdleTimeout without a request, and
// SessionLifetime after sign-in however busy it is.
func TestSession_Expiry(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	ts := newTestConsole(t, &recorder{}, func(s *Server) {
		s.now, s.IdleTimeout, s.SessionLifetime = clock.now, 10*time.Minute, time.Hour
	})

	idle := newClient(t, ts.URL)
	idle.login(testKey, testSecret)
	busy := newClient(t, ts.URL)
	busy.login("", testPassword)

	clock.add(9 * time.Minute)
	if code, _ := idle.do("GET", "/api/v1/status", nil, nil); code != 200 {
		t.Fatalf("9 min after sign-in: %d", code)
	}
	clock.add(10*time.Minute + time.Second)
	if code, errCode := idle.do("GET", "/api/v1/status", nil, nil); code != 401 || errCode != "NotSignedIn" {
		t.Fatalf("10 min without a request: %d %s, want 401", code, errCode)
	}

	clock.t = clock.t.Add(-19*time.Minute - time.Second) // back to sign-in time
	for elapsed := time.Duration(0); elapsed < time.Hour-5*time.Minute; elapsed += 5 * time.Minute {
		clock.add(5 * time.Minute)
		if code, _ := busy.do("GET", "/api/v1/status", nil, nil); code != 200 {
			t.Fatalf("active session refused %s after sign-in", elapsed+5*time.Minute)
		}
	}
	clock.add(5*time.Minute + time.Second)
	if code, _ := busy.do("GET", "/api/v1/status", nil, nil); code != 401 {
		t.Fatalf("busy session past its lifetime: %d, want 401", code)
	}
}

// TestSession_Cap: at MaxSessions the session closest to its end goes first.
func TestSession_Cap(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	ss := newSessions(time.Hour, 24*time.Hour, 2, clock.now)
	first := ss.create("a")
	clock.add(time.Minute)
	second := ss.create("b")
	clock.add(time.Minute)
	ss.create("c")
	if _, ok := ss.get(first.id, false); ok {
		t.Fatal("the oldest session survived the cap")
	}
	if _, ok := ss.get(second.id, false); !ok {
		t.Fatal("a newer session was dropped")
	}
	select {
	case <-first.done:
	default:
		t.Fatal("the dropped session's streams were not told")
	}
}
