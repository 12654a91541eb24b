package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/ipas/ipas/internal/httpserve"
)

// HTTPServer returns an http.Server for s with the configured timeouts. There is no
// whole-request ReadTimeout, which would cut off large uploads: a stalled body is
// caught by StallTimeout on every read instead.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(s.log.With().Str("source", "net/http").Logger(), "", 0),
	}
}

// Serve serves S3 on ln (over TLS when cfg has CertFile and KeyFile) until ctx ends,
// then shuts down gracefully within ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeHandler(ctx, ln, s)
}

// ServeHandler is Serve with another handler in front of the S3 one (the daemon mounts
// its control API this way), sharing the listener, TLS and graceful shutdown.
func (s *Server) ServeHandler(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := s.HTTPServer()
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		restoreRequest(r)
		h.ServeHTTP(w, r)
	})
	if s.cfg.CertFile != "" {
		tc, err := TLSConfig(s.cfg.CertFile, s.cfg.KeyFile)
		if err != nil {
			return err
		}
		hs.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
	}
	ln = expectListener{ln}
	hs.ConnContext = expectConnContext
	if err := httpserve.Serve(ctx, hs, ln, s.cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// ListenAndServe listens on addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gateway: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}
