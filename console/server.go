package console

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/httpserve"
)

// Defaults of the Server's tunables.
const (
	// DefaultIdleTimeout ends a session that made no request for this long;
	// an open page's event stream does not count.
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultSessionLifetime ends every session this long after sign-in.
	DefaultSessionLifetime = 12 * time.Hour
	// DefaultMaxSessions bounds the sessions kept in memory.
	DefaultMaxSessions = 256
	// DefaultPollInterval is how often the shared poll reads the status while
	// at least one page is open.
	DefaultPollInterval = time.Second
	// DefaultKeepAlive is how often an idle event stream gets a comment line,
	// so that a dead connection is noticed.
	DefaultKeepAlive = 30 * time.Second
	// DefaultMaxStreams bounds the open event streams.
	DefaultMaxStreams = 64
	// DefaultLoginInterval and DefaultLoginBurst rate-limit sign-in attempts
	// per remote address: a burst of 5, then one every 10 seconds.
	DefaultLoginInterval = 10 * time.Second
	DefaultLoginBurst    = 5
	// DefaultShutdownTimeout bounds a graceful stop.
	DefaultShutdownTimeout = 5 * time.Second
)

// CookieName is the session cookie.
const CookieName = "ipas_console"

// Server is the console. Create it with New, adjust the exported fields, then
// call Serve or use Handler.
type Server struct {
	IdleTimeout     time.Duration
	SessionLifetime time.Duration
	MaxSessions     int
	PollInterval    time.Duration
	KeepAlive       time.Duration
	MaxStreams      int
	LoginInterval   time.Duration
	LoginBurst      int
	ShutdownTimeout time.Duration
	// TLS, when set, makes Serve speak HTTPS and the cookie Secure.
	TLS *tls.Config
	// Users, when set, serves the Users page: the same directory of users
	// and keys as the admin API's (admin.Handler.WithUsers).
	Users admin.Users

	ctrl admin.Controller
	// archive and diagnostics serve the Browse, Remote, Drop folders and Log
	// pages when ctrl offers them; nil otherwise.
	archive     admin.Archive
	diagnostics admin.Diagnostics
	login       Login
	log         zerolog.Logger
	now         func() time.Time

	once     sync.Once
	handler  http.Handler
	sessions *sessions
	limiter  *loginLimiter
	hub      *hub
	streams  atomic.Int64 // open event streams
}

// New returns a console over ctrl (the same actions as the admin API) that
// signs users in with login.
func New(ctrl admin.Controller, login Login, log zerolog.Logger) *Server {
	archive, _ := ctrl.(admin.Archive)
	diagnostics, _ := ctrl.(admin.Diagnostics)
	return &Server{
		archive:         archive,
		diagnostics:     diagnostics,
		IdleTimeout:     DefaultIdleTimeout,
		SessionLifetime: DefaultSessionLifetime,
		MaxSessions:     DefaultMaxSessions,
		PollInterval:    DefaultPollInterval,
		KeepAlive:       DefaultKeepAlive,
		MaxStreams:      DefaultMaxStreams,
		LoginInterval:   DefaultLoginInterval,
		LoginBurst:      DefaultLoginBurst,
		ShutdownTimeout: DefaultShutdownTimeout,
		ctrl:            ctrl,
		login:           login,
		log:             log.With().Str("component", "console").Logger(),
		now:             time.Now,
	}
}

// Handler returns the console's HTTP handler. The tunables are read on the
// first call.
func (s *Server) Handler() http.Handler {
	s.once.Do(func() {
		s.sessions = newSessions(s.IdleTimeout, s.SessionLifetime, s.MaxSessions, s.now)
		s.limiter = newLoginLimiter(s.LoginInterval, s.LoginBurst, s.now)
		s.hub = newHub(s.ctrl, s.PollInterval, s.log)
		s.hub.diag = s.diagnostics
		mux := http.NewServeMux()
		mux.Handle("GET /{$}", assetHandler("index.html"))
		mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
		mux.HandleFunc("POST /api/v1/login", s.handleLogin)
		mux.HandleFunc("GET /api/v1/events", s.handleEvents)
		s.apiRoutes(mux)
		s.handler = securityHeaders(mux)
	})
	return s.handler
}

// securityHeaders confines the pages to their own assets and origin.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", "IPAS")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// Serve serves the console on ln (over TLS when s.TLS is set) until ctx ends,
// then stops within ShutdownTimeout. Event streams end with ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          log.New(s.log.With().Str("source", "net/http").Logger(), "", 0),
	}
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	if err := httpserve.Serve(ctx, hs, ln, s.ShutdownTimeout); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}
