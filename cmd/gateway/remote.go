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
