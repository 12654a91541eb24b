package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ipas/ipas/alert"
	"github.com/ipas/ipas/cache"
	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication/remote"
	"github.com/ipas/ipas/watcher"
)

// Defaults of every configurable value. The embedded configuration is DefaultConfig().
const (
	DefaultDataDir       = "./ipas-data"
	DefaultS3Address     = ":9000"
	DefaultRegion        = "us-east-1"
	DefaultLogLevel      = "info"
	DefaultLogFormat     = "auto"
	DefaultMaxClockSkew  = 15 * time.Minute
	DefaultMaxObjectSize = 5 << 40 // S3's limit, 5 TiB
	DefaultInlineMax     = gateway.DefaultInlineMax
	// DefaultAbortIncompleteUploadsAfter is the age at which an unfinished
	// multipart upload is aborted, as an S3 lifecycle rule would.
	DefaultAbortIncompleteUploadsAfter = 7 * 24 * time.Hour
	// DefaultMemoryLimit is the Go runtime's soft memory limit (memory_limit).
	// The daemon's live heap is a few MiB; the limit keeps garbage from
	// piling up between collections after bursts of requests.
	DefaultMemoryLimit = 32 << 20
	// minMemoryLimit is the lowest memory_limit accepted: below it the
	// collector would run all the time.
	minMemoryLimit          = 16 << 20
	DefaultShutdownTimeout  = 10 * time.Second
	DefaultGCInterval       = time.Hour
	DefaultSnapshotInterval = 2 * time.Minute
	// DefaultSnapshotThreshold is high because a snapshot copies the whole index
	// database; the log between snapshots is cheap to keep.
	DefaultSnapshotThreshold = 65536
	// DefaultTrailingLogs is the number of raft entries kept after a snapshot.
	// A single node needs none; an entry may carry up to 1 MiB of small
	// objects' bytes (s3.inline_max), so few are kept.
	DefaultTrailingLogs = 1024
)

// Environment variables that override the configuration file.
const (
	EnvConfig    = "IPAS_CONFIG"
	EnvDataDir   = "IPAS_DATA_DIR"
	EnvS3Address = "IPAS_S3_ADDR"
	EnvLogLevel  = "IPAS_LOG_LEVEL"
	EnvAccessKey = "IPAS_ACCESS_KEY"
	EnvSecretKey = "IPAS_SECRET_KEY"
)

// Config is the whole configuration of the daemon: embedded defaults, then the YAML
// file, then the environment, then flags.
type Config struct {
	DataDir         string        `yaml:"data_dir"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes; 0: none.
	MemoryLimit int64         `yaml:"memory_limit"`
	Log         LogConfig     `yaml:"log"`
	S3          S3Config      `yaml:"s3"`
	Journal     JournalConfig `yaml:"journal"`
	Store       StoreConfig   `yaml:"store"`
	// Drop lists the drop folders; nil means the embedded default, DATA_DIR/drop,
	// where each first-level directory is a bucket. `folders: []` turns it off.
	Drop watcher.Config `yaml:"drop"`
	// Remote is where the offsite copy goes; empty endpoint and bucket mean the
	// embedded loopback copy (not offsite). IPAS_REMOTE_* variables override it.
	Remote      RemoteConfig      `yaml:"remote"`
	Replication ReplicationConfig `yaml:"replication"`
	Console     ConsoleConfig     `yaml:"console"`
	Metrics     MetricsConfig     `yaml:"metrics"`
	// Alerts says when to tell a human, and how (webhooks, email).
	Alerts alert.Config `yaml:"alerts"`
}

// ConsoleConfig is the web console. It serves HTTPS exactly when the S3
// endpoint does, with the same certificate (s3.tls).
type ConsoleConfig struct {
	Address string `yaml:"address"`
	// PasswordFile holds the bcrypt hash of the console password; empty means
	// DATA_DIR/console-password, generated on first start.
	PasswordFile string `yaml:"password_file"`
}

// RemoteConfig is the remote section: where the offsite copy goes, and how
// often a snapshot of the index is uploaded next to it.
type RemoteConfig struct {
	remote.Config `yaml:",inline"`
	// IndexInterval is how often the remote index snapshot is uploaded when
	// the index changed (and at every clean shutdown); 0: only at shutdown.
	IndexInterval time.Duration `yaml:"index_interval"`
	// UsersPassphraseFile names a file (mode 0600) holding a passphrase:
	// set, the remote index carries the access keys' secrets sealed under a
	// key derived from it, and `gateway restore` given the passphrase brings
	// the keys back. IPAS_USERS_PASSPHRASE takes precedence.
	UsersPassphraseFile string `yaml:"users_passphrase_file"`
}

// DefaultIndexInterval is remote.index_interval's default; minIndexInterval
// its lowest accepted value (each upload reads the whole index).
const (
	DefaultIndexInterval = remoteindex.DefaultInterval
	minIndexInterval     = time.Minute
)

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`  // trace, debug, info, warn, error
	Format string `yaml:"format"` // auto (console on a terminal, else json), console, json
}

// S3Config is the local S3 endpoint.
type S3Config struct {
	Address      string        `yaml:"address"`
	Region       string        `yaml:"region"`
	MaxClockSkew time.Duration `yaml:"max_clock_skew"`
	Credentials  []Credential  `yaml:"credentials"`
	// Domain enables virtual-host style (BUCKET.DOMAIN) besides path style.
	Domain        string `yaml:"domain"`
	MaxObjectSize int64  `yaml:"max_object_size"` // bytes
	// InlineMax is the largest object journaled with its bytes (one fsync per
	// PUT instead of three); 0 turns it off.
	InlineMax int64     `yaml:"inline_max"`
	TLS       TLSConfig `yaml:"tls"`
	// AbortIncompleteUploadsAfter aborts multipart uploads this old (their
	// parts' space is freed); 0 keeps them until a client aborts them.
	AbortIncompleteUploadsAfter time.Duration `yaml:"abort_incomplete_uploads_after"`
	// LifecycleInterval is how often the buckets' lifecycle rules
	// (PutBucketLifecycleConfiguration) are applied; 0 only on request and
	// after start-up.
	LifecycleInterval time.Duration `yaml:"lifecycle_interval"`
	// DefaultVersioning is the versioning of the buckets CreateBucket makes:
	// enabled, or unchanged (default: unversioned, as in S3).
	DefaultVersioning string `yaml:"default_versioning"`
}

// TLSConfig makes the S3 endpoint serve HTTPS: with a certificate and key, or with a
// self-signed certificate generated once under the data directory.
type TLSConfig struct {
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	SelfSigned bool   `yaml:"self_signed"`
}

// Credential is one S3 access key.
type Credential struct {
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
}

// JournalConfig tunes the Raft journal.
type JournalConfig struct {
	SnapshotThreshold uint64        `yaml:"snapshot_threshold"`
	SnapshotInterval  time.Duration `yaml:"snapshot_interval"`
	TrailingLogs      uint64        `yaml:"trailing_logs"`
	// Reserve is the space, in bytes, kept back for the journal on a full
	// disk (queue.Config.ReserveBytes); 0 turns it off.
	Reserve int64 `yaml:"reserve"`
}

// StoreConfig tunes the local blob store.
type StoreConfig struct {
	GCInterval time.Duration `yaml:"gc_interval"`
	// ScrubInterval is how often every blob is re-hashed (and repaired from
	// the remote if corrupt); 0 turns the schedule off.
	ScrubInterval time.Duration `yaml:"scrub_interval"`
	// ScrubRate bounds a scrub's disk reads: a rate such as 20MiB/s, or 0
	// (unlimited).
	ScrubRate string `yaml:"scrub_rate"`
	// CacheOnRead says when an object whose bytes are on the remote only is
	// stored locally again as it is read through: always (on its first
	// whole read), never, or a number N (at its Nth read).
	CacheOnRead string `yaml:"cache_on_read"`
	// Capacity is the most the data directory's file system may hold, in
	// bytes ("500GB") or as a share of it ("85%"); "" turns eviction off.
	// Above HighWater (a share of Capacity) the least recently read objects
	// that are verified offsite are evicted down to LowWater; KeepLocal
	// buckets and prefixes are never evicted.
	Capacity  string   `yaml:"capacity"`
	HighWater float64  `yaml:"high_water"`
	LowWater  float64  `yaml:"low_water"`
	KeepLocal []string `yaml:"keep_local"`
}

// DefaultConfig returns the embedded configuration that `gateway serve` uses when
// given nothing else.
func DefaultConfig() Config {
	return Config{
		DataDir:         DefaultDataDir,
		ShutdownTimeout: DefaultShutdownTimeout,
		MemoryLimit:     DefaultMemoryLimit,
		Log:             LogConfig{Level: DefaultLogLevel, Format: DefaultLogFormat},
		S3: S3Config{
			Address:       DefaultS3Address,
			Region:        DefaultRegion,
			MaxClockSkew:  DefaultMaxClockSkew,
			MaxObjectSize: DefaultMaxObjectSize,
			InlineMax:     DefaultInlineMax,

			AbortIncompleteUploadsAfter: DefaultAbortIncompleteUploadsAfter,
			LifecycleInterval:           DefaultLifecycleInterval,
		},
		Journal: JournalConfig{
			SnapshotThreshold: DefaultSnapshotThreshold,
			SnapshotInterval:  DefaultSnapshotInterval,
			TrailingLogs:      DefaultTrailingLogs,
			Reserve:           queue.DefaultReserveBytes,
		},
		Store: StoreConfig{GCInterval: DefaultGCInterval, ScrubInterval: DefaultScrubInterval, ScrubRate: DefaultScrubRate,
			CacheOnRead: DefaultCacheOnRead, HighWater: cache.DefaultHighWater, LowWater: cache.DefaultLowWater},
		Drop:        watcher.DefaultConfig(),
		Remote:      RemoteConfig{Config: remote.DefaultConfig(), IndexInterval: DefaultIndexInterval},
		Replication: defaultReplicationConfig(),
		Console:     ConsoleConfig{Address: DefaultConsoleAddress},
		Metrics:     MetricsConfig{Address: DefaultMetricsAddress},
		Alerts:      alert.DefaultConfig(),
	}
}

// ConfigError names the configuration field that is wrong and says how to fix it.
type ConfigError struct {
	Source  string // the file, "environment" or "flags"; empty when unknown
	Field   string // dotted YAML path, e.g. "s3.address"
	Problem string
	Fix     string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.Source != "" {
		b.WriteString(" " + e.Source)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Problem)
	if e.Fix != "" {
		b.WriteString("; " + e.Fix)
	}
	return b.String()
}

// ParseConfig reads YAML from r over the defaults in c. Unknown keys are an error, and
// ${VAR} references are expanded from the environment so secrets can stay out of the file.
func ParseConfig(r io.Reader, source string, c *Config) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("config %s: read: %w", source, err)
	}
	expanded, err := expandEnv(raw, source)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return &ConfigError{Source: source, Problem: yamlProblem(err),
			Fix: "see README.md \"Configuration\" for every key and its type"}
	}
	return nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} with the variable's value. A bare $ is left alone, so a
// secret that contains one is not mangled; an unset variable is an error, not "".
func expandEnv(raw []byte, source string) ([]byte, error) {
	var missing string
	out := envRef.ReplaceAllFunc(raw, func(ref []byte) []byte {
		name := string(envRef.FindSubmatch(ref)[1])
		v, ok := os.LookupEnv(name)
		if !ok && missing == "" {
			missing = name
		}
		return []byte(v)
	})
	if missing != "" {
		return nil, &ConfigError{Source: source, Problem: fmt.Sprintf("${%s} is not set in the environment", missing),
			Fix: "export it before starting the gateway, or write the value into the file"}
	}
	return out, nil
}

// yamlProblem turns yaml.v3's multi-line TypeError into one line.
func yamlProblem(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = unknownKeyProblem(m)
		}
		return strings.Join(msgs, "; ")
	}
	return err.Error()
}

// LoadConfigFile applies the YAML file at path over c.
func LoadConfigFile(path string, c *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return &ConfigError{Source: path, Problem: err.Error(),
			Fix: "pass an existing file to --config, or omit --config to run with the embedded defaults"}
	}
	defer f.Close()
	return ParseConfig(f, path, c)
}

// ApplyEnv applies the IPAS_* environment variables over c.
func ApplyEnv(c *Config, getenv func(string) string) error {
	if v := getenv(EnvDataDir); v != "" {
		c.DataDir = v
	}
	if v := getenv(EnvS3Address); v != "" {
		c.S3.Address = v
	}
	if v := getenv(EnvConsoleAddress); v != "" {
		c.Console.Address = v
	}
	if v := getenv(EnvMetricsAddress); v != "" {
		c.Metrics.Address = v
	}
	if v := getenv(EnvMetricsToken); v != "" {
		c.Metrics.Token = v
	}
	if v := getenv(EnvLogLevel); v != "" {
		c.Log.Level = v
	}
	ak, sk := getenv(EnvAccessKey), getenv(EnvSecretKey)
	switch {
	case ak != "" && sk != "":
		// The environment's key comes first; keys from the file stay valid too.
		c.S3.Credentials = append([]Credential{{AccessKey: ak, SecretKey: sk}}, c.S3.Credentials...)
	case ak != "" || sk != "":
		return &ConfigError{Source: "environment", Field: EnvAccessKey + "/" + EnvSecretKey,
			Problem: "only one of the two is set", Fix: "set both, or neither to use the generated credentials"}
	}
	return nil
}

// Validate checks every field and returns the first problem as a *ConfigError.
func (c *Config) Validate() error {
	bad := func(field, problem, fix string) error {
		return &ConfigError{Field: field, Problem: problem, Fix: fix}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return bad("data_dir", "is empty", "set it to a directory on the disk that holds the archive, e.g. /var/lib/ipas")
	}
	if c.ShutdownTimeout <= 0 {
		return bad("shutdown_timeout", fmt.Sprintf("%s is not positive", c.ShutdownTimeout), "use a duration such as 10s")
	}
	if c.MemoryLimit != 0 && c.MemoryLimit < minMemoryLimit {
		return bad("memory_limit", fmt.Sprintf("%d bytes is below %d", c.MemoryLimit, minMemoryLimit),
			fmt.Sprintf("use 0 for no limit, or at least %d (16 MiB); the default is %d", minMemoryLimit, DefaultMemoryLimit))
	}
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		return bad("log.level", fmt.Sprintf("%q is not a level", c.Log.Level), "use one of trace, debug, info, warn, error")
	}
	switch c.Log.Format {
	case "auto", "console", "json":
	default:
		return bad("log.format", fmt.Sprintf("%q is not a format", c.Log.Format), "use auto, console or json")
	}
	if _, port, err := net.SplitHostPort(c.S3.Address); err != nil || port == "" {
		return bad("s3.address", fmt.Sprintf("%q is not HOST:PORT", c.S3.Address), "write it like 127.0.0.1:9000 or :9000")
	}
	if c.S3.Region == "" {
		return bad("s3.region", "is empty", "use the region your clients sign with, e.g. us-east-1")
	}
	if c.S3.MaxClockSkew < 0 {
		return bad("s3.max_clock_skew", "is negative", "use 15m (the S3 default), or 0 to disable the check on a Pi without a clock")
	}
	if c.S3.MaxObjectSize <= 0 {
		return bad("s3.max_object_size", "is not positive", fmt.Sprintf("use a size in bytes, e.g. %d (5 TiB)", int64(DefaultMaxObjectSize)))
	}
	if c.S3.LifecycleInterval < 0 {
		return bad("s3.lifecycle_interval", "is negative", "use a duration such as 24h (the default), or 0s to apply lifecycle rules only after start-up and with `gateway lifecycle`")
	}
	if c.S3.AbortIncompleteUploadsAfter < 0 {
		return bad("s3.abort_incomplete_uploads_after", "is negative", "use a duration such as 168h (7 days, the default), or 0 to keep unfinished uploads until a client aborts them")
	}
	if v := c.S3.DefaultVersioning; v != "" && v != watcher.VersioningEnabled && v != watcher.VersioningUnchanged {
		return bad("s3.default_versioning", fmt.Sprintf("%q is not known", v), "use enabled (new buckets keep every version) or unchanged")
	}
	if c.S3.InlineMax < 0 || c.S3.InlineMax > queue.MaxInlineBytes {
		return bad("s3.inline_max", fmt.Sprintf("%d is not 0-%d", c.S3.InlineMax, queue.MaxInlineBytes),
			fmt.Sprintf("use a size in bytes, e.g. %d, or 0 to turn it off", DefaultInlineMax))
	}
	if (c.S3.TLS.CertFile == "") != (c.S3.TLS.KeyFile == "") {
		return bad("s3.tls", "has only one of cert_file and key_file", "set both, or neither")
	}
	if c.S3.TLS.SelfSigned && c.S3.TLS.CertFile != "" {
		return bad("s3.tls.self_signed", "is set together with cert_file", "use either your certificate or a self-signed one")
	}
	if strings.ContainsAny(c.S3.Domain, "/: ") {
		return bad("s3.domain", fmt.Sprintf("%q is not a host name", c.S3.Domain), "write only the name, e.g. s3.home.arpa")
	}
	seen := map[string]bool{}
	for i, cred := range c.S3.Credentials {
		field := fmt.Sprintf("s3.credentials[%d]", i)
		if len(cred.AccessKey) < 3 || len(cred.AccessKey) > 128 || strings.ContainsAny(cred.AccessKey, "/ \t\n") {
			return bad(field+".access_key", "must be 3 to 128 characters without '/' or spaces", "use letters and digits, e.g. the one `gateway` generates")
		}
		if len(cred.SecretKey) < 8 {
			return bad(field+".secret_key", "is shorter than 8 characters", "use a long random secret (e.g. `openssl rand -base64 30`)")
		}
		if seen[cred.AccessKey] {
			return bad(field+".access_key", "appears twice", "give each credential its own access key")
		}
		seen[cred.AccessKey] = true
	}
	if err := c.Console.validate(c.S3.Address); err != nil {
		return err
	}
	if err := c.Metrics.validate(c.S3.Address, c.Console.Address); err != nil {
		return err
	}
	if c.Journal.SnapshotThreshold == 0 {
		return bad("journal.snapshot_threshold", "is 0", fmt.Sprintf("use a positive count, e.g. %d", DefaultSnapshotThreshold))
	}
	if c.Journal.SnapshotInterval <= 0 {
		return bad("journal.snapshot_interval", "is not positive", "use a duration such as 2m")
	}
	if c.Journal.Reserve < 0 {
		return bad("journal.reserve", "is negative", fmt.Sprintf("use a size in bytes, e.g. %d (the default), or 0 to keep no reserve", queue.DefaultReserveBytes))
	}
	if c.Store.GCInterval <= 0 {
		return bad("store.gc_interval", "is not positive", "use a duration such as 1h")
	}
	if c.Store.ScrubInterval < 0 {
		return bad("store.scrub_interval", "is negative", "use a duration such as 720h (monthly), or 0 to scrub only on request (`gateway scrub`)")
	}
	if _, err := parseScrubRate(c.Store.ScrubRate); err != nil {
		return bad("store.scrub_rate", fmt.Sprintf("%q is not a rate", c.Store.ScrubRate), "write e.g. "+DefaultScrubRate+", or 0 for no limit")
	}
	if _, err := parseCacheOnRead(c.Store.CacheOnRead); err != nil {
		return bad("store.cache_on_read", err.Error(), "write always (the default), never, or a number of reads such as 3")
	}
	if v := os.Getenv(remote.EnvPathStyle); v != "" {
		if _, err := strconv.ParseBool(v); err != nil {
			return &ConfigError{Source: "environment", Field: remote.EnvPathStyle, Problem: fmt.Sprintf("%q is not true or false", v),
				Fix: "set it to true (most self-hosted servers: MinIO, Garage, versitygw) or false (AWS), or unset it"}
		}
	}
	if err := c.Store.validateCache(bad); err != nil {
		return err
	}
	if rc := c.Remote.FromEnv(); rc.Endpoint != "" || rc.Bucket != "" {
		if err := rc.Validate(); err != nil {
			return bad("remote", err.Error(), "see README.md \"Replication\"")
		}
	}
	if c.Remote.IndexInterval < 0 || (c.Remote.IndexInterval > 0 && c.Remote.IndexInterval < minIndexInterval) {
		return bad("remote.index_interval", fmt.Sprintf("is %s", c.Remote.IndexInterval),
			fmt.Sprintf("use a duration of at least %s (default %s), or 0 to upload the remote index only at shutdown", minIndexInterval, DefaultIndexInterval))
	}
	if err := c.Replication.Config.Validate(); err != nil {
		return bad("replication", err.Error(), "see README.md \"Replication\"")
	}
	if _, err := c.Replication.settings(); err != nil {
		return err
	}
	if err := validateAlerts(c.Alerts); err != nil {
		return err
	}
	if c.Replication.ReconcileInterval < 0 {
		return bad("replication.reconcile_interval", "is negative", "use a duration such as 24h, or 0 to reconcile only at start-up (after a remote change) and on request")
	}
	// The watcher names its own fields (drop.folders[N].KEY) and their fixes.
	return c.Drop.Validate()
}
