package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
)

// Handler serves the API. Create it with NewHandler.
type Handler struct {
	ctrl     Controller
	verifier *sigv4.Verifier
	log      zerolog.Logger
	// users serves the user and key endpoints (WithUsers); isAdmin, when
	// set, refuses every request not signed by an admin's key.
	users   Users
	isAdmin func(accessKey string) bool
}

// NewHandler returns the API over ctrl. verifier must be the S3 endpoint's (same
// credentials, region and clock skew): the API has no other authentication.
func NewHandler(ctrl Controller, verifier *sigv4.Verifier, log zerolog.Logger) *Handler {
	return &Handler{ctrl: ctrl, verifier: verifier, log: log.With().Str("component", "admin").Logger()}
}

// Mount returns a handler that sends requests under PathPrefix to api and
// everything else to s3. With a virtual-host domain, BUCKET.DOMAIN/_ipas/x is
// the object "_ipas/x" of BUCKET, so such hosts always go to s3.
func Mount(api, s3 http.Handler, domain string) http.Handler {
	suffix := "." + strings.ToLower(domain)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, PathPrefix) || (domain != "" && virtualHost(r.Host, suffix)) {
			s3.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

func virtualHost(host, suffix string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	b, ok := strings.CutSuffix(strings.ToLower(host), suffix)
	return ok && b != ""
}

// route is one endpoint.
type route struct {
	method string
	serve  func(ctx context.Context, body []byte) (any, error)
	// get, when set, serves GET on a POST endpoint, or GET with a query.
	get func(ctx context.Context, q url.Values) (any, error)
}

func (h *Handler) routes(path string) (route, bool) {
	switch path {
	case PathReconcile:
		return route{http.MethodPost, func(ctx context.Context, _ []byte) (any, error) { return h.ctrl.Reconcile(ctx, true) },
			func(ctx context.Context, _ url.Values) (any, error) { return h.ctrl.Reconcile(ctx, false) }}, true
	case PathScrub:
		return route{http.MethodPost, func(ctx context.Context, _ []byte) (any, error) { return h.ctrl.Scrub(ctx, true) },
			func(ctx context.Context, _ url.Values) (any, error) { return h.ctrl.Scrub(ctx, false) }}, true
	case PathStatus:
		return route{method: http.MethodGet, serve: func(ctx context.Context, _ []byte) (any, error) { return h.ctrl.Status(ctx) }}, true
	case PathPause:
		return route{method: http.MethodPost, serve: func(ctx context.Context, _ []byte) (any, error) { return nil, h.ctrl.Pause(ctx) }}, true
	case PathResume:
		return route{method: http.MethodPost, serve: func(ctx context.Context, _ []byte) (any, error) { return nil, h.ctrl.Resume(ctx) }}, true
	case PathBandwidth:
		return route{method: http.MethodPut, serve: func(ctx context.Context, body []byte) (any, error) {
			return nil, h.ctrl.SetBandwidth(ctx, strings.TrimSpace(string(body)))
		}}, true
	}
	if rt, ok := h.userRoute(path); ok {
		return rt, true
	}
	if rt, ok := h.cacheRoute(path); ok {
		return rt, true
	}
	if rt, ok := h.lifecycleRoute(path); ok {
		return rt, true
	}
	return h.pageRoute(path)
}

// ServeHTTP implements http.Handler: authentication first, for every path, so
// that an unauthenticated caller learns nothing about the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "IPAS")
	w.Header().Set("Cache-Control", "no-store")
	body, err := h.authenticate(r)
	if err != nil {
		var apiErr *s3err.APIError
		if !errors.As(err, &apiErr) {
			apiErr = s3err.ErrIncompleteBody // the body could not be read
		}
		h.log.Info().Str("method", r.Method).Str("path", r.URL.Path).Str("remote_addr", r.RemoteAddr).
			Str("code", apiErr.Code).Msg("admin request refused")
		writeError(w, apiErr.Status, apiErr.Code, apiErr.Message)
		return
	}
	rt, ok := h.routes(r.URL.Path)
	serve := rt.serve
	if ok && rt.get != nil && r.Method == http.MethodGet {
		serve = func(ctx context.Context, _ []byte) (any, error) { return rt.get(ctx, r.URL.Query()) }
	}
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "NotFound", "no such admin endpoint: "+r.URL.Path)
		return
	case r.Method != rt.method && (rt.get == nil || r.Method != http.MethodGet):
		allow := rt.method
		if rt.get != nil && rt.method != http.MethodGet {
			allow = http.MethodGet + ", " + allow
		}
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.URL.Path+" takes "+allow)
		return
	}
	out, err := serve(r.Context(), body)
	switch {
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "NotFound", err.Error())
		return
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "Conflict", err.Error())
		return
	case err != nil:
		h.log.Error().Err(err).Str("path", r.URL.Path).Msg("admin request failed")
		writeError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	if r.Method != http.MethodGet {
		h.log.Info().Str("path", r.URL.Path).Str("body", string(body)).Msg("admin change applied")
	}
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out) // the client went away; nothing left to tell it
}

// authenticate verifies the signature and returns the body, whose SHA-256 must
// be the signed x-amz-content-sha256: an unsigned or streaming payload is
// refused, so a body cannot be swapped in transit. Presigned URLs are refused
// too: a control request is made by a tool holding the secret, not shared.
func (h *Handler) authenticate(r *http.Request) ([]byte, error) {
	if sigv4.IsPresigned(r.URL.Query()) {
		return nil, s3err.ErrAccessDenied.WithMessage("presigned URLs are not accepted by the admin API; sign the request")
	}
	res, err := h.verifier.Verify(r)
	if err != nil {
		return nil, err
	}
	if h.isAdmin != nil && !h.isAdmin(res.AccessKey) {
		return nil, ErrNotAdmin
	}
	if !sigv4.IsSHA256Hex(res.PayloadHash) {
		return nil, s3err.ErrAccessDenied.WithMessage("the admin API needs a signed payload: x-amz-content-sha256 must be the body's SHA-256")
	}
	pr, err := sigv4.NewPayloadReader(http.MaxBytesReader(nil, r.Body, MaxBodySize), res.PayloadHash)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(pr)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, s3err.ErrInvalidRequest.WithMessage("the body is larger than the admin API accepts")
		}
		return nil, err
	}
	return body, nil
}

// ErrNotAdmin refuses a request signed with the key of a user who is not an
// admin: the API and the console steer the whole Pi.
var ErrNotAdmin = s3err.ErrAccessDenied.WithMessage("admin actions need an admin credential (a key of a user with the role admin, or of the config file, the environment or first start)")

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}
