package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Paths that Handler serves.
const (
	PathMetrics = "/metrics"
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
)

// The only bodies the health endpoints answer with.
const (
	wordOK       = "ok\n"
	wordReady    = "ready\n"
	wordNotReady = "not ready\n"
)

// readyTimeout bounds one readiness check: a store on a dying disk must not
// hang the probe.
const readyTimeout = 5 * time.Second

// Access says who may scrape /metrics.
type Access struct {
	// Token is the bearer token a scrape must send
	// (Authorization: Bearer TOKEN).
	Token string
	// Public lets anyone scrape without a token.
	Public bool
}

// Handler serves /metrics (with access), /healthz and /readyz. ready is the
// readiness check (nil: always ready); its error is logged, never shown: the
// health endpoints answer without authentication, so they say a status word
// and nothing else.
func Handler(m *Metrics, access Access, ready func(ctx context.Context) error, log zerolog.Logger) http.Handler {
	log = log.With().Str("component", "metrics").Logger()
	scrape := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	mux := http.NewServeMux()
	mux.HandleFunc(PathMetrics, func(w http.ResponseWriter, r *http.Request) {
		if !access.allows(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ipas metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		scrape.ServeHTTP(w, r)
	})
	mux.HandleFunc(PathHealthz, func(w http.ResponseWriter, r *http.Request) {
		word(w, http.StatusOK, wordOK)
	})
	var failing atomic.Bool // logs the changes only, not every probe
	mux.HandleFunc(PathReadyz, func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				if !failing.Swap(true) {
					log.Warn().Err(err).Msg("readiness check failed: /readyz answers not ready")
				}
				word(w, http.StatusServiceUnavailable, wordNotReady)
				return
			}
			if failing.Swap(false) {
				log.Info().Msg("readiness check passes again")
			}
		}
		word(w, http.StatusOK, wordReady)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func word(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (a Access) allows(r *http.Request) bool {
	if a.Public {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && a.Token != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(a.Token)) == 1
}
