package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ipas/ipas/replication/remote"
	"github.com/rs/zerolog"
)

// remoteCheckTimeout bounds `gateway remote test` as a whole.
const remoteCheckTimeout = 2 * time.Minute

var errRemoteCheckFailed = errors.New("the remote is not usable (see above)")

// runRemote dispatches `gateway remote SUBCOMMAND`.
func runRemote(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "reconcile" {
		return runRemoteReconcile(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintf(stderr, "Usage: gateway remote test|reconcile [FLAGS]\n\n"+
			"  test       checks the configured remote (remote: in the config, or IPAS_REMOTE_*):\n"+
			"             credentials, bucket access, multipart permission and clock skew\n"+
			"  reconcile  asks the running daemon to list the remote and upload what it lacks\n")
		return errUsage
	}
	fs := flag.NewFlagSet("remote test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf configFlags
	cf.register(fs)
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	rc := cfg.Remote.FromEnv()
	if rc.Bucket == "" {
		return fmt.Errorf("no remote is configured: set remote.bucket (and remote.endpoint for a non-AWS service) or %s; "+
			"without one, serve replicates to a local copy that is not offsite", remote.EnvBucket)
	}
	log := newLogger(cfg.Log, os.Stderr)
	ctx, cancel := context.WithTimeout(context.Background(), remoteCheckTimeout)
	defer cancel()
	client, err := remote.New(ctx, rc, log)
	if err != nil {
		return err
	}
	report := client.Check(ctx)
	fmt.Fprint(stdout, report.String())
	if !report.OK {
		return errRemoteCheckFailed
	}
	return nil
}

// protectionTimeout bounds the start-up read of the remote's versioning.
const protectionTimeout = 30 * time.Second

// logProtection says at start-up what the remote bucket keeps of old
// versions (`remote test` says more); it also caches the remote's
// versioning for replication. An unreachable remote is logged elsewhere.
func logProtection(ctx context.Context, client *remote.Client, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, protectionTimeout)
	defer cancel()
	p, err := client.Protection(ctx)
	if err != nil {
		log.Debug().Err(err).Msg("remote versioning not read at start-up")
		return
	}
	ev := log.Info()
	if !p.Versioned() {
		ev = log.Warn()
	}
	ev = ev.Str("remote_versioning", p.Versioning).Bool("object_lock", p.Lock)
	if p.LockMode != "" {
		ev = ev.Str("lock_mode", p.LockMode).Int32("lock_days", p.LockDays).Int32("lock_years", p.LockYears)
	}
	if p.Versioned() {
		ev.Msg("the remote bucket keeps every version (versions of versioned buckets go to the remote's own versions)")
		return
	}
	ev.Msg("the remote bucket keeps one copy of each key: versions of versioned buckets go under .ipas/versions/, " +
		"and a stolen remote key could overwrite them; enable versioning or Object Lock on the remote bucket (README, Object Lock on the remote)")
}
