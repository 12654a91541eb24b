package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/gateway"
)

// controlTimeout bounds one command against the running daemon.
const controlTimeout = 30 * time.Second

// controlFlags are the flags of the commands that talk to a running daemon.
type controlFlags struct {
	configFlags
	endpoint string
}

func (f *controlFlags) register(fs *flag.FlagSet) {
	f.configFlags.register(fs)
	fs.StringVar(&f.endpoint, "endpoint", "", "the daemon's `URL` (default: from s3.address, https when s3.tls is set)")
}

// client loads the configuration as serve would and builds an admin client for the
// daemon it describes: its address, its first credential, its certificate.
func (f *controlFlags) client() (*admin.Client, string, error) {
	cfg, err := f.load()
	if err != nil {
		return nil, "", err
	}
	endpoint := f.endpoint
	if endpoint == "" {
		endpoint = daemonURL(cfg)
	}
	cred, err := daemonCredential(cfg)
	if err != nil {
		return nil, "", err
	}
	hc := &http.Client{Timeout: admin.DefaultClientTimeout}
	if strings.HasPrefix(endpoint, "https://") {
		pool, err := daemonRoots(cfg)
		if err != nil {
			return nil, "", err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		hc.Transport = tr
	}
	c := &admin.Client{Endpoint: endpoint, Region: cfg.S3.Region, AccessKey: cred.AccessKey, SecretKey: cred.SecretKey, HTTP: hc}
	return c, endpoint, nil
}

// daemonURL is where a local daemon listens: s3.address, with a wildcard host
// replaced by loopback.
func daemonURL(cfg Config) string {
	host, port, _ := net.SplitHostPort(cfg.S3.Address) // validated by load
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.S3.TLS.CertFile != "" || cfg.S3.TLS.SelfSigned {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// daemonCredential is the credential serve accepts: the configured ones (the
// environment's first), else the one generated under the data directory.
func daemonCredential(cfg Config) (Credential, error) {
	if len(cfg.S3.Credentials) > 0 {
		return cfg.S3.Credentials[0], nil
	}
	path := filepath.Join(cfg.DataDir, CredentialsFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return Credential{}, fmt.Errorf("no credential: none in s3.credentials or %s/%s, and %w; "+
			"run as the daemon's user, or pass the same --config/--data-dir as serve", EnvAccessKey, EnvSecretKey, err)
	}
	var cred Credential
	if err := yaml.Unmarshal(raw, &cred); err != nil || cred.AccessKey == "" || cred.SecretKey == "" {
		return Credential{}, fmt.Errorf("credentials %s: not a valid credentials file", path)
	}
	return cred, nil
}

// daemonRoots trusts the system's CAs plus the daemon's own certificate (the
// configured one, or the self-signed one under the data directory).
func daemonRoots(cfg Config) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	certFile := cfg.S3.TLS.CertFile
	if cfg.S3.TLS.SelfSigned {
		certFile = filepath.Join(cfg.DataDir, gateway.SelfSignedCertFile)
	}
	if certFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("the daemon's certificate: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the daemon's certificate %s: no PEM certificate in it", certFile)
	}
	return pool, nil
}

// explain turns a client error into what the user should do.
func explain(err error, endpoint string) error {
	var apiErr *admin.APIError
	switch {
	case errors.Is(err, admin.ErrNotRunning):
		return fmt.Errorf("cannot reach the daemon at %s (connection refused): is `gateway serve` running on %s? "+
			"(use the same --config/--s3-addr as serve, or --endpoint URL)", endpoint, strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://"))
	case errors.Is(err, admin.ErrDenied):
		return fmt.Errorf("the daemon at %s refused our credentials: %w; use the access key the daemon knows "+
			"(s3.credentials, %s/%s or DATA_DIR/%s, with the same --config/--data-dir as serve)",
			endpoint, err, EnvAccessKey, EnvSecretKey, CredentialsFile)
	case errors.As(err, &apiErr) && errors.Is(err, admin.ErrInvalid):
		return fmt.Errorf("the daemon refused the request: %s", apiErr.Message)
	}
	return err
}

// runStatus prints the running daemon's status.
func runStatus(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON (the admin API's document)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	c, endpoint, err := cf.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return explain(err, endpoint)
	}
	if *asJSON {
		return printJSON(stdout, st)
	}
	printStatus(stdout, st)
	return nil
}

const replicationUsage = `Usage: gateway replication pause|resume|bandwidth RATE-OR-TIMETABLE|retry BUCKET/KEY|--all [FLAGS]

Changes the running daemon's uploads at once, until the next restart:
  pause       stop uploading (nothing is lost: objects stay queued)
  resume      start again
  bandwidth   "300KiB/s", "unlimited", or "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited"
  retry       start a failing upload now, or release a quarantined one: BUCKET/KEY (or a
              job ID from status --json), or --all for every failing and quarantined job
`

// runReplication pauses, resumes or re-limits the running daemon's uploads.
func runReplication(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "pause" && args[0] != "resume" && args[0] != "bandwidth" && args[0] != "retry") {
		fmt.Fprint(stderr, replicationUsage)
		return errUsage
	}
	action := args[0]
	fs := flag.NewFlagSet("replication "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlFlags
	cf.register(fs)
	all := fs.Bool("all", false, "retry: every failing and quarantined job")
	nargs := 0
	if action == "bandwidth" || (action == "retry" && !slices.Contains(args[1:], "--all") && !slices.Contains(args[1:], "-all")) {
		nargs = 1
	}
	if err := parseFlags(fs, args[1:], nargs); err != nil {
		return err
	}
	c, endpoint, err := cf.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	var msg string
	switch action {
	case "pause":
		err, msg = c.Pause(ctx), "replication paused"
	case "resume":
		err, msg = c.Resume(ctx), "replication resumed"
	case "bandwidth":
		err, msg = c.SetBandwidth(ctx, fs.Arg(0)), "bandwidth set to "+fs.Arg(0)
	case "retry":
		msg, err = retryJobs(ctx, c, fs.Arg(0), *all)
	}
	if err != nil {
		return explain(err, endpoint)
	}
	fmt.Fprintln(stdout, msg)
	return nil
}

// retryJobs retries the failing or quarantined jobs of the object named
// BUCKET/KEY (or the job of that ID), or every one with all.
func retryJobs(ctx context.Context, c *admin.Client, name string, all bool) (string, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, j := range st.Failing {
		if all || j.ID == name || j.Bucket+"/"+j.Key == name {
			ids = append(ids, j.ID)
		}
	}
	if len(ids) == 0 && !all {
		ids = append(ids, name) // a job ID the status does not list: the daemon says whether it exists
	}
	for _, id := range ids {
		if err := c.RetryJob(ctx, id); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d job(s) retried", len(ids)), nil
}
