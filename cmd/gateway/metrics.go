package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/metrics"
	"github.com/ipas/ipas/store"
	"github.com/ipas/ipas/watcher"
)

// The metrics and health endpoints' defaults and names.
//
// They have an address of their own rather than a path on the S3 address:
// "metrics", "healthz" and "readyz" are valid bucket names, so on the S3
// address they would have to hide under a prefix that no bucket can take
// (/_ipas/...) and would still be objects on virtual-host names; a port of
// their own keeps the paths every probe and scraper expects, lets the
// operator bind it to loopback or a management network apart from S3, and
// keeps scrapes out of the S3 request metrics.
const (
	// DefaultMetricsAddress is metrics.address; "" turns the endpoints off.
	DefaultMetricsAddress = ":9002"
	// EnvMetricsAddress and EnvMetricsToken override metrics.address and
	// metrics.token.
	EnvMetricsAddress = "IPAS_METRICS_ADDR"
	EnvMetricsToken   = "IPAS_METRICS_TOKEN"
	// MetricsTokenFile is the name, under the data directory, of the scrape
	// token generated on first start when metrics.token is not set.
	MetricsTokenFile = "metrics-token"
	// minMetricsToken is the shortest metrics.token accepted.
	minMetricsToken = 16
	// metricsReadHeaderTimeout bounds a scraper's request headers.
	metricsReadHeaderTimeout = 10 * time.Second
)

// MetricsConfig is the Prometheus and health endpoints. They serve HTTPS
// exactly when the S3 endpoint does, with the same certificate (s3.tls).
type MetricsConfig struct {
	Address string `yaml:"address"`
	// Token is the bearer token a scrape of /metrics must send; empty means
	// the one in DATA_DIR/metrics-token, generated on first start.
	Token string `yaml:"token"`
	// Public lets anyone scrape /metrics without a token.
	Public bool `yaml:"public"`
}

// validate checks the metrics section; s3Address and the console's are
// checked already.
func (c MetricsConfig) validate(s3Address, consoleAddress string) error {
	if c.Token != "" && len(c.Token) < minMetricsToken {
		return &ConfigError{Field: "metrics.token", Problem: fmt.Sprintf("is shorter than %d characters", minMetricsToken),
			Fix: "use a long random token (e.g. `openssl rand -hex 20`), or leave it empty to use the generated DATA_DIR/" + MetricsTokenFile}
	}
	if c.Address == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil || port == "" {
		return &ConfigError{Field: "metrics.address", Problem: fmt.Sprintf("%q is not HOST:PORT", c.Address),
			Fix: `write it like 127.0.0.1:9002 or :9002, or "" to turn /metrics, /healthz and /readyz off`}
	}
	for _, other := range []struct{ field, addr string }{{"s3.address", s3Address}, {"console.address", consoleAddress}} {
		oHost, oPort, _ := net.SplitHostPort(other.addr)
		if other.addr != "" && port == oPort && port != "0" && (host == oHost || host == "" || oHost == "") {
			return &ConfigError{Field: "metrics.address", Problem: fmt.Sprintf("%q uses the port of %s", c.Address, other.field),
				Fix: fmt.Sprintf("give the metrics a port of their own (default %s), or \"\" to turn them off", DefaultMetricsAddress)}
		}
	}
	return nil
}

// metricsAccess returns who may scrape: the configured token, or the one
// in the data directory (created on first start).
func metricsAccess(c MetricsConfig, dataDir string, log zerolog.Logger) (metrics.Access, error) {
	if c.Public || c.Token != "" {
		return metrics.Access{Token: c.Token, Public: c.Public}, nil
	}
	path := filepath.Join(dataDir, MetricsTokenFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil && len(strings.TrimSpace(string(raw))) >= minMetricsToken:
		return metrics.Access{Token: strings.TrimSpace(string(raw))}, nil
	case err == nil:
		return metrics.Access{}, fmt.Errorf("metrics token %s holds fewer than %d characters; delete it to generate a new one", path, minMetricsToken)
	case !errors.Is(err, os.ErrNotExist):
		return metrics.Access{}, fmt.Errorf("metrics token: %w", err)
	}
	token := rand.Text() // 26 base32 characters, 128 bits
	if err := writeFileAtomic(path, []byte(token+"\n"), 0o600); err != nil {
		return metrics.Access{}, fmt.Errorf("metrics token %s: %w", path, err)
	}
	log.Info().Str("token_file", path).Msg("generated the /metrics scrape token (send it as Authorization: Bearer TOKEN; Prometheus: authorization.credentials_file)")
	return metrics.Access{Token: token}, nil
}

// startMetrics serves /metrics, /healthz and /readyz until ctx ends, when
// cfg has an address. It returns their base URL ("" when off) and a wait
// that returns once the server has stopped.
func startMetrics(ctx context.Context, cfg Config, gcfg gateway.Config, h http.Handler) (url string, wait func() error, err error) {
	if cfg.Metrics.Address == "" {
		return "", func() error { return nil }, nil
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: metricsReadHeaderTimeout, IdleTimeout: time.Minute}
	scheme := "http"
	if gcfg.CertFile != "" {
		if srv.TLSConfig, err = gateway.TLSConfig(gcfg.CertFile, gcfg.KeyFile); err != nil {
			return "", nil, fmt.Errorf("metrics: %w", err)
		}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Address)
	if err != nil {
		return "", nil, fmt.Errorf("metrics.address %s: %w; choose a free port with %s, or set metrics.address to \"\" to turn the endpoints off",
			cfg.Metrics.Address, err, EnvMetricsAddress)
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if srv.TLSConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()
	return scheme + "://" + ln.Addr().String(), func() error { <-stopped; return <-done }, nil
}

// daemonState reads, at each scrape, the totals the components keep.
type daemonState struct {
	a     *dataArchive
	rep   *replicator
	w     *watcher.Watcher
	cache *daemonCache
}

func (d daemonState) read() metrics.State {
	var s metrics.State
	if d.a == nil {
		return s
	}
	if st, err := d.a.node.Stats(); err == nil {
		if off, err := d.a.node.Offsite(); err == nil {
			s.Archive = &metrics.ArchiveState{Objects: st.Objects, Bytes: st.Bytes, Jobs: st.Jobs,
				PendingObjects: off.PendingObjects, PendingBytes: off.PendingBytes,
				OldestPending: off.OldestPending, LastReplicated: off.LastReplicated}
		}
	}
	if disk, err := diskUsage(d.a.dir.path); err == nil {
		s.Disk = &metrics.DiskState{TotalBytes: disk.TotalBytes, FreeBytes: disk.FreeBytes}
	}
	if d.rep != nil && d.rep.rep != nil {
		rs := d.rep.rep.Status()
		s.Replication = &metrics.ReplicationState{Paused: rs.Paused || rs.Bandwidth.Paused, Quarantined: rs.Quarantined, SentBytes: rs.SentBytes,
			RecentRate: rs.RecentRate, ReplicatedObjects: rs.ReplicatedObjects, ReplicatedBytes: rs.ReplicatedBytes}
	}
	if d.cache != nil {
		k := d.cache.cache.Stats()
		s.Cache = &metrics.CacheState{CapacityBytes: k.Capacity, UsedBytes: k.Used, EvictableBytes: k.Evictable,
			PinnedBytes: k.Pinned, NotOffsiteBytes: k.NotOffsite, RemoteOnlyBytes: k.RemoteOnly, Hits: k.Hits,
			Misses: k.Misses, ReadThroughBytes: k.ReadThroughBytes, EvictedObjects: k.EvictedObjects,
			EvictedBytes: k.EvictedBytes, Refused: k.RefusedWrites, Refusing: k.Refusing != ""}
	}
	if d.w != nil {
		ws := d.w.Stats()
		s.Drop = &metrics.DropState{Ingested: ws.Versions, Unchanged: ws.Unchanged, Skipped: ws.Skipped, Errors: ws.Errors, Pending: ws.Pending}
	}
	return s
}

// healthy is what the systemd watchdog needs before each ping: the journal
// is open and applying, and the store takes writes. A full disk is healthy:
// a restart would not free space, and the daemon serves reads and deletes.
func (a *dataArchive) healthy(ctx context.Context) error {
	werr := a.store.CheckWritable(ctx)
	if errors.Is(werr, store.ErrNoSpace) {
		werr = nil
	}
	return errors.Join(a.node.Healthy(), werr)
}

// ready is /readyz: healthy, and this node leads the journal (a node that
// does not lead refuses writes).
func (a *dataArchive) ready(ctx context.Context) error {
	if err := a.healthy(ctx); err != nil {
		return err
	}
	if !a.node.IsLeader() {
		return errors.New("the journal is open but this node is not its leader")
	}
	return nil
}
