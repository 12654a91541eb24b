package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/admin"
)

// CSRFHeader carries the session's CSRF token on every state-changing request.
const CSRFHeader = "X-CSRF-Token"

// maxBody bounds a request body: a sign-in or a bandwidth is a line.
const maxBody = 4 << 10

// Session is the body of a sign-in and of GET /api/v1/session.
type Session struct {
	User      string    `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	Expires   time.Time `json:"expires"`
}

// LoginRequest is the body of POST /api/v1/login. An empty AccessKey signs in
// with the console password.
type LoginRequest struct {
	AccessKey string `json:"access_key"`
	Secret    string `json:"secret"`
}

// BandwidthRequest is the body of PUT /api/v1/replication/bandwidth: a rate
// ("300KiB/s", "unlimited") or a weekly timetable, as replication.bandwidth.
type BandwidthRequest struct {
	Bandwidth string `json:"bandwidth"`
}

// apiError is a refusal: rendered by writeError, the one place errors are written.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

var (
	errNotSignedIn = &apiError{http.StatusUnauthorized, "NotSignedIn", "sign in first"}
	errBadLogin    = &apiError{http.StatusUnauthorized, "InvalidCredentials", "wrong access key, secret or password"}
	errCSRF        = &apiError{http.StatusForbidden, "InvalidCSRFToken", "the request lacks this session's " + CSRFHeader + "; reload the page"}
	errCrossSite   = &apiError{http.StatusForbidden, "CrossOrigin", "the request comes from another site"}
)

// endpoint is one authenticated JSON endpoint. A change needs the CSRF token.
type endpoint struct {
	pattern string // "METHOD /path" for http.ServeMux
	change  bool
	serve   func(ctx context.Context, r *http.Request, s *session) (any, error)
}

func (s *Server) apiRoutes(mux *http.ServeMux) {
	eps := []endpoint{
		{"GET /api/v1/session", false, func(_ context.Context, _ *http.Request, ss *session) (any, error) {
			return s.sessionBody(ss), nil
		}},
		{"POST /api/v1/logout", true, func(_ context.Context, _ *http.Request, ss *session) (any, error) {
			s.sessions.delete(ss)
			s.log.Info().Str("user", ss.user).Msg("signed out")
			return nil, nil
		}},
		{"GET /api/v1/status", false, func(ctx context.Context, _ *http.Request, _ *session) (any, error) {
			return s.ctrl.Status(ctx)
		}},
		{"POST /api/v1/replication/pause", true, func(ctx context.Context, _ *http.Request, _ *session) (any, error) {
			return nil, s.ctrl.Pause(ctx)
		}},
		{"POST /api/v1/replication/resume", true, func(ctx context.Context, _ *http.Request, _ *session) (any, error) {
			return nil, s.ctrl.Resume(ctx)
		}},
		{"PUT /api/v1/replication/bandwidth", true, func(ctx context.Context, r *http.Request, _ *session) (any, error) {
			var req BandwidthRequest
			if err := decodeJSON(r, &req); err != nil {
				return nil, err
			}
			return nil, s.ctrl.SetBandwidth(ctx, strings.TrimSpace(req.Bandwidth))
		}},
	}
	eps = append(eps, endpoint{"POST /api/v1/replication/retry", true, func(ctx context.Context, r *http.Request, _ *session) (any, error) {
		jobs, ok := s.ctrl.(admin.Jobs)
		if !ok {
			return nil, errNoArchive
		}
		var req admin.RetryRequest
		if err := decodeJSON(r, &req); err != nil {
			return nil, err
		}
		if req.Job == "" {
			return nil, &apiError{http.StatusBadRequest, "InvalidRequest", `name the job: {"job": ID}`}
		}
		return nil, jobs.RetryJob(ctx, req.Job)
	}}, endpoint{"GET /api/v1/replication/history", false, func(ctx context.Context, _ *http.Request, _ *session) (any, error) {
		history, ok := s.ctrl.(admin.History)
		if !ok {
			return nil, errNoArchive
		}
		return history.RateHistory(ctx)
	}}, endpoint{"POST /api/v1/alerts/test", true, func(ctx context.Context, _ *http.Request, _ *session) (any, error) {
		alerter, ok := s.ctrl.(admin.Alerter)
		if !ok {
			return nil, errNoArchive
		}
		return alerter.TestAlert(ctx)
	}})
	eps = append(eps, s.pageEndpoints()...)
	eps = append(eps, s.userEndpoints()...)
	for _, ep := range eps {
		mux.HandleFunc(ep.pattern, func(w http.ResponseWriter, r *http.Request) { s.serveEndpoint(w, r, ep) })
	}
	mux.HandleFunc("GET /api/v1/objects/download", s.handleDownload)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, "NotFound", "no such console endpoint: " + r.Method + " " + r.URL.Path})
	})
}

// serveEndpoint authenticates, checks CSRF for changes, runs ep and writes
// its result.
func (s *Server) serveEndpoint(w http.ResponseWriter, r *http.Request, ep endpoint) {
	w.Header().Set("Cache-Control", "no-store")
	ss, err := s.authorize(r, ep.change)
	if err == nil {
		var out any
		out, err = ep.serve(r.Context(), r, ss)
		if err == nil {
			if ep.change {
				s.log.Info().Str("user", ss.user).Str("request", ep.pattern).Msg("console change applied")
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	ae := s.refusal(err, ep.pattern)
	if ae.status == http.StatusUnauthorized || ae.status == http.StatusForbidden {
		s.log.Info().Str("request", ep.pattern).Str("remote_addr", r.RemoteAddr).Str("code", ae.code).Msg("console request refused")
	}
	writeError(w, ae)
}

// authorize returns the request's session; a change must also come from the
// console's own origin and carry the session's CSRF token.
func (s *Server) authorize(r *http.Request, change bool) (*session, error) {
	if change && !sameOrigin(r) {
		return nil, errCrossSite
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, errNotSignedIn
	}
	ss, ok := s.sessions.get(c.Value, true)
	if !ok {
		return nil, errNotSignedIn
	}
	if change && !ss.validCSRF(r.Header.Get(CSRFHeader)) {
		return nil, errCSRF
	}
	return ss, nil
}

// sameOrigin refuses what a browser marks as sent from another site. Tools
// that send no Origin still need the cookie and the CSRF token.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (s *Server) sessionBody(ss *session) Session {
	return Session{User: ss.user, CSRFToken: ss.csrf, Expires: ss.expiry(s.IdleTimeout, s.SessionLifetime).UTC()}
}

// handleLogin signs a user in: rate limit first, so that a refused attempt
// costs no bcrypt work.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !sameOrigin(r) {
		writeError(w, errCrossSite)
		return
	}
	host := remoteHost(r)
	if ok, wait := s.limiter.allow(host); !ok {
		s.log.Warn().Str("remote_addr", host).Msg("console sign-in refused: too many attempts")
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, &apiError{http.StatusTooManyRequests, "TooManyAttempts",
			fmt.Sprintf("too many sign-in attempts from %s; try again in %s", host, wait.Round(time.Second))})
		return
	}
	var req LoginRequest
	var ae *apiError
	if err := decodeJSON(r, &req); errors.As(err, &ae) {
		writeError(w, ae)
		return
	}
	user, ok, err := s.login.check(strings.TrimSpace(req.AccessKey), req.Secret)
	if err != nil {
		s.log.Error().Err(err).Msg("console sign-in with the password: the password file cannot be used")
	}
	if !ok {
		s.log.Info().Str("remote_addr", host).Str("access_key", req.AccessKey).Msg("console sign-in refused: wrong credentials")
		writeError(w, errBadLogin)
		return
	}
	ss := s.sessions.create(user)
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: ss.id, Path: "/", MaxAge: int(s.SessionLifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	s.log.Info().Str("remote_addr", host).Str("user", user).Msg("console sign-in")
	writeJSON(w, http.StatusOK, s.sessionBody(ss))
}

// decodeJSON reads a small JSON body; a form or a text body is refused, which
// also keeps cross-site HTML forms out.
func decodeJSON(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return &apiError{http.StatusUnsupportedMediaType, "InvalidRequest", "send a JSON body with Content-Type: application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{http.StatusBadRequest, "InvalidRequest", "the body is not the JSON this endpoint takes: " + err.Error()}
	}
	return nil
}

// writeJSON writes v, or 204 when there is nothing to say.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing left to tell it
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, admin.ErrorBody{Error: admin.ErrorDetail{Code: e.code, Message: e.message}})
}
