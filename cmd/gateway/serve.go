package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/internal/logring"
	"github.com/ipas/ipas/metrics"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/watcher"
)

func runServe(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// serve is the default command: its help is the binary's, so it lists
	// the commands before its own flags.
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprint(stderr, "\nFlags of serve (the default command):\n")
		fs.PrintDefaults()
	}
	var cf configFlags
	cf.register(fs)
	fs.Var(&cf.drops, "drop", "add a drop folder: `DIR=BUCKET[/PREFIX]` (repeatable; DIR=* makes each first-level directory a bucket)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	ring := logring.New(logring.DefaultLines) // the console's Log page
	log := newLogger(cfg.Log, os.Stderr, ring)
	setMemoryLimit(cfg.MemoryLimit, log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, cf.load, log, ring, stderr)
}

// setMemoryLimit gives the Go runtime a soft limit on the memory it manages, so
// that after a burst (thousands of small PUTs) it collects and returns memory
// rather than keep the heap it grew to: on a Pi the daemon shares a few hundred
// MiB with everything else. GOMEMLIMIT, when set, wins; 0 means no limit.
func setMemoryLimit(limit int64, log zerolog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" || limit <= 0 {
		return
	}
	debug.SetMemoryLimit(limit)
	log.Debug().Int64("bytes", limit).Msg("Go memory limit set")
}

// serve runs the daemon until ctx is cancelled, then shuts down within
// cfg.ShutdownTimeout: the S3 endpoint stops accepting requests and lets those in
// flight finish, then the journal and the store are closed. On SIGHUP it calls
// reload and applies the replication settings that can change at run time.
func serve(ctx context.Context, cfg Config, reload func() (Config, error), log zerolog.Logger, ring *logring.Ring, terminal io.Writer) error {
	// The metrics read the components' totals at each scrape; the fields of
	// state are set before the metrics endpoint starts.
	state := &daemonState{}
	m := metrics.New(func() metrics.State { return state.read() })
	a, err := openArchive(ctx, cfg, log, func(qc *queue.Config) {
		qc.OnCommit = m.ObserveCommit
		qc.OnFailure = exitOnJournalFailure(log)
	})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			a.close(context.Background())
		}
	}()
	if len(cfg.S3.Credentials) == 0 {
		cred, created, err := loadOrCreateCredential(a.dir.path)
		if err != nil {
			return err
		}
		if created {
			showNewCredential(terminal, isTerminal(os.Stderr), cred, a.dir.path)
		}
		cfg.S3.Credentials = []Credential{cred}
	}
	gcfg, err := gatewayConfig(cfg, a.dir.path)
	if err != nil {
		return err
	}
	// Users and their keys come from the journal; the configured credentials
	// are the built-in admin's. See package users.
	dir, err := openDirectory(cfg, a.dir.path, a.node, log)
	if err != nil {
		return err
	}
	gcfg.Credentials, gcfg.Authorizer = dir, dir
	for _, f := range cfg.Drop.Folders {
		if f.Owner != "" && !dir.KnownUser(f.Owner) {
			log.Warn().Str("path", f.Path).Str("owner", f.Owner).
				Msg("drop folder owner is not a user: the buckets it creates belong to that name, which only admins can reach; add the user with `gateway user add`")
		}
	}
	ln, err := net.Listen("tcp", cfg.S3.Address)
	if err != nil {
		return fmt.Errorf("s3.address %s: %w; choose a free port with --s3-addr", cfg.S3.Address, err)
	}
	w := watcher.New(cfg.Drop, a.dir.path, a.node, a.objects, log)
	if err := w.Open(ctx); err != nil {
		ln.Close()
		return err
	}
	srv := gateway.New(gcfg, a.node, a.objects, log)

	// The S3 endpoint has its own context so that it stops first on shutdown; the
	// watcher, the replicator and the collector stop with runCtx.
	serveCtx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	runCtx, stopRunning := context.WithCancel(ctx)
	defer stopRunning()
	rep, err := startReplicator(runCtx, cfg, a, m, log)
	if err != nil {
		ln.Close()
		w.Close(context.Background())
		return err
	}
	// abandon undoes what has started so far when a later step fails.
	abandon := func(err error) error {
		stopRunning()
		ln.Close()
		w.Close(context.Background())
		rep.stop(context.Background())
		return err
	}
	rt, err := startReadThrough(cfg, a, rep, log)
	var cch *daemonCache
	if err == nil {
		cch, err = startCache(runCtx, cfg, a, rep, rt, log)
	}
	defer cch.stop()
	if err != nil {
		return abandon(err)
	}
	rec := startReconcile(runCtx, cfg, a, rep, log)
	scr, err := startScrub(runCtx, cfg, a, rep, log)
	var ctrl *control
	if err == nil {
		ctrl, err = newControl(rep, rec, scr, a.node, cfg.Replication, log)
	}
	if err != nil {
		return abandon(err)
	}
	ctrl.drop, ctrl.cache = w, cch
	lc := startLifecycle(runCtx, cfg, a, log)
	ctrl.lifecycle = lc
	ctrl.publicBuckets = dir.PublicBuckets
	go ctrl.history.record(runCtx, rep)
	ctrl.pages.objects, ctrl.pages.folders, ctrl.pages.ring = a.objects, cfg.Drop.Folders, ring
	snap, err := startRemoteIndex(runCtx, cfg, a, rep, log)
	if err != nil {
		return abandon(err)
	}
	// The alerts read the status the console shows, and add theirs to it.
	alertsWait, err := startAlerts(runCtx, cfg, a.dir.path, ctrl, log)
	if err != nil {
		return abandon(err)
	}
	// The admin API shares the listener and the S3 credentials; see package admin.
	// The S3 requests, not the admin API's, are counted.
	handler := admin.Mount(admin.NewHandler(withDisk{ctrl, a.dir.path}, s3Verifier(gcfg), log).WithUsers(dir, isAdmin(dir)),
		m.InstrumentS3(srv, srv.Operation), gcfg.Domain)
	// The web console runs the same actions behind its own sign-in; see package console.
	consoleURL, consoleWait, err := startConsole(serveCtx, cfg, gcfg, dir, a.dir.path, withDisk{ctrl, a.dir.path}, terminal, log)
	if err != nil {
		return abandon(err)
	}
	*state = daemonState{a: a, rep: rep, w: w, cache: cch}
	access, err := metricsAccess(cfg.Metrics, a.dir.path, log)
	var metricsURL string
	metricsWait := func() error { return nil }
	if err == nil {
		metricsURL, metricsWait, err = startMetrics(serveCtx, cfg, gcfg, metrics.Handler(m, access, a.ready, log))
	}
	if err != nil {
		stopServing()
		consoleWait()
		return abandon(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeHandler(serveCtx, ln, handler) }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	watching := make(chan error, 1)
	go func() { watching <- w.Run(runCtx) }()
	collecting := make(chan struct{})
	go func() {
		defer close(collecting)
		a.store.RunCollector(runCtx, a.markReferenced)
	}()
	go collectWhileFull(runCtx, a, queue.RoomForReserve(cfg.Journal.Reserve))
	go expireUploads(runCtx, a, cfg.S3.AbortIncompleteUploadsAfter, log)

	scheme := "http"
	if gcfg.CertFile != "" {
		scheme = "https"
	}
	log.Info().Str("data_dir", a.dir.path).Str("s3_endpoint", scheme+"://"+ln.Addr().String()).
		Str("console", consoleURL).Str("metrics", metricsURL).Msg("gateway ready")
	sd := systemd{log: log}
	sd.ready()
	watchdogDone := make(chan struct{})
	go func() { defer close(watchdogDone); sd.watchdog(runCtx, a.healthy) }()
	var runErr error
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case err := <-served:
			runErr = fmt.Errorf("s3 endpoint stopped: %w", err)
			served <- nil
			running = false
		case err := <-watching:
			runErr = fmt.Errorf("drop folders stopped: %w", err)
			watching <- nil
			running = false
		case <-hup:
			sd.reloading(func() { reloadReplication(reload, ctrl, log) })
		}
	}

	log.Info().Msg("shutting down: no new work is accepted")
	sd.stopping()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	stopServing()
	if err := <-served; err != nil {
		log.Warn().Err(err).Msg("s3 endpoint shutdown")
	}
	if err := consoleWait(); err != nil {
		log.Warn().Err(err).Msg("console shutdown")
	}
	if err := metricsWait(); err != nil {
		log.Warn().Err(err).Msg("metrics shutdown")
	}
	stopRunning()
	alertsWait()
	<-watchdogDone
	if err := <-watching; err != nil && !errors.Is(err, context.Canceled) {
		log.Warn().Err(err).Msg("drop folders shutdown")
	}
	<-collecting
	closed = true
	// The reconcile and the scrub use the remote client: they end before it does.
	recErr, scrErr, lcErr := rec.wait(sctx), scr.wait(sctx), lc.wait(sctx)
	repErr := rep.stop(sctx)
	snap.uploadAtShutdown(sctx)
	if err := errors.Join(runErr, w.Close(sctx), recErr, scrErr, lcErr, repErr, cch.stop(), a.close(sctx)); err != nil {
		return err
	}
	log.Info().Msg("stopped cleanly")
	return nil
}

// reloadReplication re-reads the configuration on SIGHUP. A configuration that
// does not load changes nothing: the daemon keeps running with what it has.
func reloadReplication(reload func() (Config, error), ctrl *control, log zerolog.Logger) {
	log.Info().Msg("SIGHUP: re-reading the configuration")
	cfg, err := reload()
	if err == nil {
		err = ctrl.reload(cfg.Replication)
	}
	if err != nil {
		log.Error().Err(err).Msg("reload refused: the previous settings stay in force")
	}
}

// s3Verifier checks signatures exactly as the S3 endpoint does (gateway.New), for
// the admin API.
func s3Verifier(g gateway.Config) *sigv4.Verifier {
	v := sigv4.NewVerifier(g.Credentials)
	v.MaxSkew = g.MaxClockSkew
	if g.RequireRegion {
		v.Region = g.Region
	}
	return v
}

// gatewayConfig turns the S3 section into the gateway's configuration. In-flight
// requests get most of the shutdown budget; the rest is for flushing the journal.
func gatewayConfig(cfg Config, dataDir string) (gateway.Config, error) {
	creds := sigv4.StaticCredentials{}
	for _, c := range cfg.S3.Credentials {
		creds[c.AccessKey] = c.SecretKey
	}
	g := gateway.DefaultConfig(creds)
	g.Region = cfg.S3.Region
	g.RequireRegion = true // a request signed for another region is refused, as S3 does
	g.MaxClockSkew = cfg.S3.MaxClockSkew
	g.MaxObjectSize = cfg.S3.MaxObjectSize
	g.InlineMax = cfg.S3.InlineMax
	if g.InlineMax == 0 {
		g.InlineMax = -1 // the gateway's 0 means its default
	}
	g.Domain = cfg.S3.Domain
	g.VersionNewBuckets = cfg.S3.DefaultVersioning == watcher.VersioningEnabled
	g.ShutdownTimeout = cfg.ShutdownTimeout * 7 / 10
	g.CertFile, g.KeyFile = cfg.S3.TLS.CertFile, cfg.S3.TLS.KeyFile
	if cfg.S3.TLS.SelfSigned {
		cert, key, err := gateway.SelfSignedCertificate(dataDir)
		if err != nil {
			return g, fmt.Errorf("s3.tls.self_signed: %w", err)
		}
		g.CertFile, g.KeyFile = cert, key
	}
	if err := g.Validate(); err != nil {
		return g, err
	}
	return g, nil
}
