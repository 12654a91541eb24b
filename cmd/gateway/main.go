// Command gateway is the IPAS daemon and its tools in one binary.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ipas/ipas/watcher"
)

// version is stamped by the release build: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `Usage: gateway [COMMAND] [FLAGS]

Commands:
  serve     run the daemon (the default when no command is given)
  import    archive the files of a directory into a bucket (daemon stopped)
  check-config  validate the configuration (file, environment, flags) and exit
  credentials  show the S3 access key; --env prints export lines for a shell (eval "$(gateway credentials --env)")
  remote    "remote test": check the remote's credentials, bucket, multipart and clock;
            "remote reconcile": list the remote, upload what it lacks (running daemon)
  status    show the running daemon's replication, queue and archive (--json for scripts)
  replication  "replication pause|resume|bandwidth RATE-OR-TIMETABLE|retry BUCKET/KEY": control the running daemon
  user      "user add|list|remove|disable|quota": the running daemon's users (admin credential)
  key       "key add|list|revoke|rotate": users' access keys (admin credential)
  verify    re-hash every object in the archive; exit 1 if any is corrupt (daemon stopped)
  scrub     re-hash the running daemon's blobs now, repairing corrupt ones from the remote
  lifecycle apply the buckets' lifecycle rules now (running daemon): old versions, markers, uploads
  evict     "evict BUCKET[/PREFIX]": free the running daemon's disk of what is verified offsite
  fetch     "fetch BUCKET[/PREFIX]": bring objects on the remote only back onto the disk
  alert     "alert test": the running daemon sends a test alert through its webhooks and email
  restore   rebuild the data directory from the configured remote alone (daemon stopped)
  version   print the version and exit

Run "gateway COMMAND -h" for the flags of a command.
`

func main() {
	stopProfile := startCPUProfile(os.Stderr)
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(args, stderr)
	case "import":
		err = runImport(args, stdout, stderr)
	case "credentials":
		err = runCredentials(args, stdout, stderr)
	case "check-config":
		err = runCheckConfig(args, stdout, stderr)
	case "remote":
		err = runRemote(args, stdout, stderr)
	case "status":
		err = runStatus(args, stdout, stderr)
	case "replication":
		err = runReplication(args, stdout, stderr)
	case "user", "key":
		err = runUsers(cmd, args, stdout, stderr)
	case "alert":
		err = runAlert(args, stdout, stderr)
	case "verify":
		err = runVerify(args, stdout, stderr)
	case "scrub":
		err = runScrub(args, stdout, stderr)
	case "lifecycle":
		err = runLifecycle(args, stdout, stderr)
	case "evict", "fetch":
		err = runCacheCommand(cmd, args, stdout, stderr)
	case "restore":
		err = runRestore(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "gateway %s\n", version)
	case "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "gateway: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "gateway %s: %v\n", cmd, err)
		return 1
	}
}

// errUsage marks a command line the flag package has already complained about.
var errUsage = errors.New("usage")

// configFlags are the flags every daemon-facing command shares.
type configFlags struct {
	configPath string
	dataDir    string
	s3Addr     string
	logLevel   string
	drops      dropFlags
}

// dropFlags collects repeated --drop DIR=BUCKET[/PREFIX] flags.
type dropFlags []watcher.Folder

func (d *dropFlags) String() string { return fmt.Sprint(len(*d), " drop folders") }

func (d *dropFlags) Set(v string) error {
	f, err := watcher.ParseDropFlag(v)
	if err != nil {
		return err
	}
	*d = append(*d, f)
	return nil
}

func (f *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.configPath, "config", "", "YAML configuration `file` (env "+EnvConfig+"); without it the embedded defaults apply")
	fs.StringVar(&f.dataDir, "data-dir", "", "data `directory` (overrides data_dir; env "+EnvDataDir+")")
	fs.StringVar(&f.s3Addr, "s3-addr", "", "S3 endpoint `HOST:PORT` (overrides s3.address; env "+EnvS3Address+")")
	fs.StringVar(&f.logLevel, "log-level", "", "log `level`: trace, debug, info, warn, error (overrides log.level; env "+EnvLogLevel+")")
}

// load builds the configuration: defaults, then the file, then the environment,
// then these flags; and validates the result.
func (f *configFlags) load() (Config, error) {
	c := DefaultConfig()
	path := f.configPath
	if path == "" {
		path = os.Getenv(EnvConfig)
	}
	if path != "" {
		if err := LoadConfigFile(path, &c); err != nil {
			return c, err
		}
	}
	if err := ApplyEnv(&c, os.Getenv); err != nil {
		return c, err
	}
	if f.dataDir != "" {
		c.DataDir = f.dataDir
	}
	if f.s3Addr != "" {
		c.S3.Address = f.s3Addr
	}
	if f.logLevel != "" {
		c.Log.Level = f.logLevel
	}
	if c.Drop.Folders == nil {
		c.Drop.Folders = []watcher.Folder{watcher.DefaultDropFolder(c.DataDir)}
	}
	c.Drop.Folders = append(c.Drop.Folders, f.drops...)
	c.Drop = c.Drop.WithDefaults()
	if err := c.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Source == "" && path != "" {
			ce.Source = path
		}
		return c, err
	}
	return c, nil
}

// parseFlags parses args into fs, translating the flag package's errors, and checks
// that exactly nargs positional arguments follow the flags.
func parseFlags(fs *flag.FlagSet, args []string, nargs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != nargs {
		fmt.Fprintf(fs.Output(), "%s takes %d argument(s), got %d\n", fs.Name(), nargs, fs.NArg())
		fs.Usage()
		return errUsage
	}
	return nil
}

// runCheckConfig loads and validates the configuration exactly as serve would, without
// touching the data directory: for `ansible.builtin.template validate:` and for humans.
func runCheckConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf configFlags
	cf.register(fs)
	fs.Var(&cf.drops, "drop", "a drop folder `DIR=BUCKET[/PREFIX]`, as for serve")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if _, err := cf.load(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "configuration ok")
	return nil
}
