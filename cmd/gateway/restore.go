package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
	"github.com/ipas/ipas/restore"
)

// restoreStateDir holds a restore's own files inside the data directory.
const restoreStateDir = "restore"

// restoreFlags are restore's own flags.
type restoreFlags struct {
	bucket, prefix  string
	metadataOnly    bool
	includeDeleted  bool
	merge, noIndex  bool
	json            bool
	objects, ranges int
	rangeSize       int64
	passphraseFile  string
}

func runRestore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gateway restore [FLAGS]\n\n"+
			"Rebuilds the data directory from the configured remote alone: buckets, objects (byte-identical,\n"+
			"verified by SHA-256) and their metadata, recorded as replicated. The daemon must be stopped.\n"+
			"A restore that is interrupted continues where it stopped when run again. With --metadata-only\n"+
			"the bytes stay on the remote; a later restore with --merge fetches them.\n\n")
		fs.PrintDefaults()
	}
	var cf configFlags
	cf.register(fs)
	var rf restoreFlags
	fs.StringVar(&rf.bucket, "bucket", "", "restore only this `bucket`")
	fs.StringVar(&rf.prefix, "prefix", "", "restore only the keys of --bucket that start with this `prefix`")
	fs.BoolVar(&rf.metadataOnly, "metadata-only", false, "rebuild the index without the bytes: objects are listed and HEADed, a GET answers 403 InvalidObjectState until a restore without it (or read-through, issue #12) brings their bytes")
	fs.BoolVar(&rf.includeDeleted, "include-deleted", false, "also restore objects that were deleted locally (the remote keeps them under the archive policy)")
	fs.BoolVar(&rf.merge, "merge", false, "restore into a data directory that holds objects already; a newer local version is never overwritten")
	fs.BoolVar(&rf.noIndex, "no-index", false, "ignore the remote index: list the remote and HEAD every object")
	fs.BoolVar(&rf.json, "json", false, "one JSON line per object on stdout, even on a terminal")
	fs.IntVar(&rf.objects, "objects", restore.DefaultObjects, "objects downloaded at once")
	fs.IntVar(&rf.ranges, "ranges", restore.DefaultRanges, "ranges of one large object downloaded at once")
	fs.StringVar(&rf.passphraseFile, "users-passphrase-file", "", "`file` (mode 0600) holding the passphrase the remote index's access keys are sealed with "+
		"(remote.users_passphrase_file): the keys come back with their secrets; default: "+EnvUsersPassphrase+", then remote.users_passphrase_file")
	fs.Int64Var(&rf.rangeSize, "range-size", restore.DefaultRangeSize, "`bytes` per ranged GET; an interrupted restore resumes inside an object only with the same value")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	rc := cfg.Remote.FromEnv()
	if rc.Bucket == "" {
		return fmt.Errorf("no remote is configured: set remote.bucket (and remote.endpoint for a non-AWS service) or %s to the remote to restore from", remote.EnvBucket)
	}
	return withStoppedDaemonArchive(&cf, func(ctx context.Context, a *dataArchive, log zerolog.Logger) error {
		return restoreArchive(ctx, cfg, rc, rf, a, log, stdout, stderr)
	})
}

func restoreArchive(ctx context.Context, cfg Config, rc remote.Config, rf restoreFlags, a *dataArchive, log zerolog.Logger, stdout, stderr io.Writer) error {
	client, err := remote.New(ctx, rc, log)
	if err != nil {
		return err
	}
	s, err := cfg.Replication.settings()
	if err != nil {
		return err
	}
	bw := newDownloadBandwidth(s)
	localID, err := readArchiveID(a.dir.path)
	if err != nil {
		return err
	}
	opts := restore.DefaultOptions(a.dir.join(restoreStateDir))
	opts.Bucket, opts.Prefix = rf.bucket, rf.prefix
	opts.IncludeDeleted, opts.Merge, opts.NoSnapshot = rf.includeDeleted, rf.merge, rf.noIndex
	opts.MetadataOnly = rf.metadataOnly
	opts.Objects, opts.Ranges, opts.RangeSize = rf.objects, rf.ranges, rf.rangeSize
	opts.Identity = remoteindex.Identity{ArchiveID: localID, Endpoint: rc.Endpoint, Bucket: rc.Bucket, Prefix: rc.Prefix}
	if opts.Secrets, err = restoreSecretsOption(cfg, rf, a.dir.path); err != nil {
		return err
	}

	var progress restore.Progress
	var summary io.Writer = stdout
	if term, ok := stderr.(*os.File); ok && isTerminal(term) && !rf.json {
		tp := restore.NewTerminalProgress(stderr)
		defer tp.Close()
		progress, summary = tp, stderr
	} else {
		progress = restore.NewJSONProgress(stdout)
		summary = stderr
	}
	r := restore.New(opts, restore.RemoteAdapter{Remote: client}, a.node, a.objects, bw, progress, log)
	res, err := r.Run(ctx)
	if tp, ok := progress.(*restore.TerminalProgress); ok {
		tp.Close()
	}
	if err != nil && !errors.Is(err, restore.ErrFailed) {
		if res.Restored+res.Skipped+res.Failed > 0 {
			res.WriteSummary(summary) // what was done before it stopped is kept
		}
		return err
	}
	res.WriteSummary(summary)
	if herr := afterRestore(ctx, cfg, rc, res, a, summary); herr != nil {
		return errors.Join(err, herr)
	}
	if err != nil {
		return fmt.Errorf("%d object(s) not restored (listed above); run the same command again to retry them", res.Failed)
	}
	return nil
}

// restoreSecretsOption is restore.Options.Secrets when a passphrase is
// given (--users-passphrase-file, IPAS_USERS_PASSPHRASE or
// remote.users_passphrase_file), nil otherwise.
func restoreSecretsOption(cfg Config, rf restoreFlags, dataDir string) (func(remoteindex.SecretSeal) (func(string, []byte) ([]byte, error), error), error) {
	var passphrase string
	var err error
	if rf.passphraseFile != "" {
		passphrase, err = passphraseFile(rf.passphraseFile, "--users-passphrase-file")
	} else {
		passphrase, err = usersPassphrase(cfg.Remote.UsersPassphraseFile, "remote.users_passphrase_file")
	}
	if err != nil || passphrase == "" {
		return nil, err
	}
	journal, err := dataSealer(dataDir)
	if err != nil {
		return nil, err
	}
	return restoreSecrets(passphrase, journal), nil
}

// afterRestore makes the data directory carry on the restored archive: its
// archive ID and its remote, and says which bucket settings of the archive
// the configuration lacks.
func afterRestore(ctx context.Context, cfg Config, rc remote.Config, res restore.Result, a *dataArchive, out io.Writer) error {
	if res.ArchiveID != "" {
		if id, _ := readArchiveID(a.dir.path); id == "" {
			if err := writeArchiveID(a.dir.path, res.ArchiveID); err != nil {
				return err
			}
		}
	}
	// Everything restored came from this remote: the next start must not
	// take it for a new one.
	if err := a.node.SetRemote(ctx, remoteIdentity(rc, false)); err != nil {
		return err
	}
	for _, hint := range bucketSettingHints(cfg, res.Buckets) {
		fmt.Fprintln(out, hint)
	}
	return nil
}

// newDownloadBandwidth applies the upload rate and timetable to downloads;
// the monthly budget and a manual pause concern uploads only.
func newDownloadBandwidth(s bandwidthSettings) *replication.Bandwidth {
	return replication.NewBandwidth(s.base, s.schedule)
}
