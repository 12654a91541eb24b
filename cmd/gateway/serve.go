package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
)

func runServe(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf configFlags
	cf.register(fs)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, log, stderr)
}

// serve runs the daemon until ctx is cancelled, then shuts down within
// cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg Config, log zerolog.Logger, terminal io.Writer) error {
	a, err := openArchive(ctx, cfg, log)
	if err != nil {
		return err
	}
	if len(cfg.S3.Credentials) == 0 {
		cred, created, err := loadOrCreateCredential(a.dir.path)
		if err != nil {
			a.close(context.Background())
			return err
		}
		if created {
			showNewCredential(terminal, isTerminal(os.Stderr), cred, a.dir.path)
		}
		cfg.S3.Credentials = []Credential{cred}
	}

	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		a.store.RunCollector(ctx, a.referenced)
	}()

	log.Info().Str("data_dir", a.dir.path).Msg("gateway ready")
	<-ctx.Done()
	log.Info().Msg("shutting down: no new work is accepted")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	<-gcDone
	if err := a.close(sctx); err != nil {
		return err
	}
	if errors.Is(sctx.Err(), context.DeadlineExceeded) {
		return sctx.Err()
	}
	log.Info().Msg("stopped cleanly")
	return nil
}
