package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser.
type session struct {
	id      string
	user    string // the access key, or PasswordUser
	csrf    string
	created time.Time
	// done is closed when the session is signed out or found expired, so
	// that its event streams end.
	done chan struct{}

	mu       sync.Mutex
	lastSeen time.Time
}

// expiry is when s ends unless it is used again before.
func (s *session) expiry(idle, lifetime time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	idleEnd, end := s.lastSeen.Add(idle), s.created.Add(lifetime)
	if idleEnd.Before(end) {
		return idleEnd
	}
	return end
}

// validCSRF compares in constant time: the token is a secret of the page.
func (s *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// sessions holds the signed-in browsers in memory: a restart signs everyone
// out, which a console on a Pi can afford.
type sessions struct {
	idle, lifetime time.Duration
	max            int
	now            func() time.Time

	mu   sync.Mutex
	byID map[string]*session
}

func newSessions(idle, lifetime time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{idle: idle, lifetime: lifetime, max: max, now: now, byID: map[string]*session{}}
}

// create starts a session for user, first dropping the expired ones and, at
// the cap, the one closest to its end.
func (ss *sessions) create(user string) *session {
	now := ss.now()
	s := &session{id: randomToken(), user: user, csrf: randomToken(), created: now, lastSeen: now, done: make(chan struct{})}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var oldest *session
	for _, o := range ss.byID {
		exp := o.expiry(ss.idle, ss.lifetime)
		if !now.Before(exp) {
			ss.deleteLocked(o)
			continue
		}
		if oldest == nil || exp.Before(oldest.expiry(ss.idle, ss.lifetime)) {
			oldest = o
		}
	}
	if len(ss.byID) >= ss.max && oldest != nil {
		ss.deleteLocked(oldest)
	}
	ss.byID[s.id] = s
	return s
}

// get returns the live session with id; touch makes the request count as
// activity (an event stream does not: an unattended page still signs out).
func (ss *sessions) get(id string, touch bool) (*session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return nil, false
	}
	now := ss.now()
	if !now.Before(s.expiry(ss.idle, ss.lifetime)) {
		ss.deleteLocked(s)
		return nil, false
	}
	if touch {
		s.mu.Lock()
		s.lastSeen = now
		s.mu.Unlock()
	}
	return s, true
}

// delete signs s out.
func (ss *sessions) delete(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.deleteLocked(s)
}

func (ss *sessions) deleteLocked(s *session) {
	if ss.byID[s.id] == s {
		delete(ss.byID, s.id)
		close(s.done)
	}
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}
