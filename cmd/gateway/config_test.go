package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/alert"
)

func TestDefaultConfig_IsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("embedded defaults do not validate: %v", err)
	}
	if c.DataDir != "./ipas-data" || c.S3.Address != ":9000" {
		t.Fatalf("defaults changed: data_dir=%q s3.address=%q", c.DataDir, c.S3.Address)
	}
}

func TestParseConfig_FileOverridesDefaults(t *testing.T) {
	t.Setenv("IPAS_TEST_SECRET", "s3cr3t-from-env")
	c := DefaultConfig()
	yml := `
data_dir: /srv/ipas
log: {level: debug, format: json}
s3:
  address: 127.0.0.1:9100
  credentials:
    - {access_key: laptop, secret_key: "${IPAS_TEST_SECRET}"}
    - {access_key: nas, secret_key: "pa$$word-kept"}
store: {gc_interval: 30m}
remote: {bucket: offsite, index_interval: 6h}
`
	if err := ParseConfig(strings.NewReader(yml), "test.yaml", &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/ipas" || c.Log.Level != "debug" || c.S3.Address != "127.0.0.1:9100" || c.Store.GCInterval != 30*time.Minute {
		t.Fatalf("file values not applied: %+v", c)
	}
	if c.S3.Credentials[0].SecretKey != "s3cr3t-from-env" {
		t.Fatalf("${VAR} not expanded: %q", c.S3.Credentials[0].SecretKey)
	}
	if c.S3.Credentials[1].SecretKey != "pa$$word-kept" {
		t.Fatalf("a bare $ in a secret was mangled: %q", c.S3.Credentials[1].SecretKey)
	}
	if c.Remote.Bucket != "offsite" || c.Remote.IndexInterval != 6*time.Hour {
		t.Fatalf("remote section not applied: %+v", c.Remote)
	}
	if c.S3.Region != DefaultRegion || c.ShutdownTimeout != DefaultShutdownTimeout {
		t.Fatalf("keys absent from the file lost their defaults: %+v", c)
	}
}

func TestParseConfig_Errors(t *testing.T) {
	tests := []struct {
		name, yml string
		want      []string // substrings of the one error
	}{
		{"unknown top-level key", "data_dri: /x\n", []string{"test.yaml", `line 1: unknown key "data_dri" at the top level; did you mean "data_dir"?`, "README"}},
		{"unknown section", "log: {level: info}\nreplicaton: {paused: true}\n", []string{`line 2: unknown key "replicaton" at the top level; did you mean "replication"?`}},
		{"unknown nested key", "s3:\n  adress: :9000\n", []string{`unknown key "adress" in s3; did you mean "address"?`}},
		{"unknown key of an inlined section", "remote:\n  bucket: b\n  path_styel: true\n", []string{`unknown key "path_styel" in remote; did you mean "path_style"?`}},
		{"unknown key in a list", "drop:\n  folders:\n    - path: /x\n      bukcet: b\n", []string{`unknown key "bukcet" in drop.folders[]; did you mean "bucket"?`}},
		{"unknown key without a near one", "alerts:\n  pager: yes\n", []string{`unknown key "pager" in alerts`}},
		{"wrong type", "shutdown_timeout: soon\n", []string{"soon", "Duration"}},
		{"unset variable", "data_dir: ${IPAS_TEST_UNSET_VAR}\n", []string{"${IPAS_TEST_UNSET_VAR}", "not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			err := ParseConfig(strings.NewReader(tt.yml), "test.yaml", &c)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "main.") || strings.Contains(err.Error(), "type ") {
				t.Errorf("error %q names a Go type", err)
			}
		})
	}
}

func TestValidate_NamesFieldAndFix(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string
	}{
		{"empty data dir", func(c *Config) { c.DataDir = " " }, "data_dir"},
		{"bad level", func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		{"bad format", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"address without port", func(c *Config) { c.S3.Address = "localhost" }, "s3.address"},
		{"empty region", func(c *Config) { c.S3.Region = "" }, "s3.region"},
		{"negative skew", func(c *Config) { c.S3.MaxClockSkew = -time.Second }, "s3.max_clock_skew"},
		{"short secret", func(c *Config) { c.S3.Credentials = []Credential{{"laptop", "short"}} }, "s3.credentials[0].secret_key"},
		{"slash in key", func(c *Config) { c.S3.Credentials = []Credential{{"a/b", "longenoughsecret"}} }, "s3.credentials[0].access_key"},
		{"duplicate key", func(c *Config) {
			c.S3.Credentials = []Credential{{"laptop", "longenoughsecret"}, {"laptop", "othersecret123"}}
		}, "s3.credentials[1].access_key"},
		{"zero shutdown", func(c *Config) { c.ShutdownTimeout = 0 }, "shutdown_timeout"},
		{"tiny memory limit", func(c *Config) { c.MemoryLimit = 1 << 20 }, "memory_limit"},
		{"negative inline max", func(c *Config) { c.S3.InlineMax = -1 }, "s3.inline_max"},
		{"inline max above the journal's", func(c *Config) { c.S3.InlineMax = 1 << 20 }, "s3.inline_max"},
		{"unknown default versioning", func(c *Config) { c.S3.DefaultVersioning = "on" }, "s3.default_versioning"},
		{"zero snapshot threshold", func(c *Config) { c.Journal.SnapshotThreshold = 0 }, "journal.snapshot_threshold"},
		{"zero gc interval", func(c *Config) { c.Store.GCInterval = 0 }, "store.gc_interval"},
		{"remote index every second", func(c *Config) { c.Remote.IndexInterval = time.Second }, "remote.index_interval"},
		{"negative remote index interval", func(c *Config) { c.Remote.IndexInterval = -time.Minute }, "remote.index_interval"},
		{"alert disk over 100%", func(c *Config) { c.Alerts.DiskPercent = 150 }, "alerts.disk_percent"},
		{"alert webhook not http", func(c *Config) { c.Alerts.Webhooks = []alert.WebhookConfig{{URL: "ftp://x/y"}} }, "alerts.webhooks[0].url"},
		{"alert ntfy without topic", func(c *Config) {
			c.Alerts.Webhooks = []alert.WebhookConfig{{URL: "https://ntfy.sh/t"}, {URL: "https://ntfy.sh/", Format: "ntfy"}}
		}, "alerts.webhooks[1].url"},
		{"alert email without recipient", func(c *Config) {
			c.Alerts.Email = alert.EmailConfig{Server: "smtp.example.com:587", From: "ipas@example.com"}
		}, "alerts.email.to"},
		{"alert email half written", func(c *Config) { c.Alerts.Email = alert.EmailConfig{From: "ipas@example.com"} }, "alerts.email.server"},
		{"alert password in clear", func(c *Config) {
			c.Alerts.Email = alert.EmailConfig{Server: "smtp.example.com:25", Security: "none", Username: "u", Password: "p",
				From: "ipas@example.com", To: []string{"me@example.com"}}
		}, "alerts.email.security"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			if ce.Field != tt.field || ce.Fix == "" {
				t.Fatalf("error %q: field %q (want %q), fix %q", err, ce.Field, tt.field, ce.Fix)
			}
		})
	}
}

func TestConfigFlags_Precedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipas.yaml")
	if err := os.WriteFile(path, []byte("data_dir: /from/file\ns3: {address: ':9001'}\nlog: {level: warn}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvS3Address, ":9003")
	t.Setenv(EnvAccessKey, "ENVKEY")
	t.Setenv(EnvSecretKey, "env-secret-123")
	f := configFlags{configPath: path, logLevel: "error"}
	c, err := f.load()
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/file" || c.S3.Address != ":9003" || c.Log.Level != "error" {
		t.Fatalf("precedence defaults<file<env<flags broken: %+v", c)
	}
	if len(c.S3.Credentials) != 1 || c.S3.Credentials[0].AccessKey != "ENVKEY" {
		t.Fatalf("IPAS_ACCESS_KEY/IPAS_SECRET_KEY not applied: %+v", c.S3.Credentials)
	}
	f.dataDir = "/from/flag"
	if c, _ = f.load(); c.DataDir != "/from/flag" {
		t.Fatalf("--data-dir did not win: %q", c.DataDir)
	}

	t.Setenv(EnvSecretKey, "")
	if _, err := f.load(); err == nil || !strings.Contains(err.Error(), EnvAccessKey) {
		t.Fatalf("half-set credentials not refused: %v", err)
	}
}

// TestRemotePathStyleEnv: IPAS_REMOTE_PATH_STYLE sets remote.path_style; a
// value that is not a boolean is refused, naming the variable.
func TestRemotePathStyleEnv(t *testing.T) {
	c := DefaultConfig()
	t.Setenv("IPAS_REMOTE_PATH_STYLE", "true")
	if err := c.Validate(); err != nil || !c.Remote.FromEnv().PathStyle {
		t.Fatalf("IPAS_REMOTE_PATH_STYLE=true: path style %v, %v", c.Remote.FromEnv().PathStyle, err)
	}
	t.Setenv("IPAS_REMOTE_PATH_STYLE", "yes please")
	var ce *ConfigError
	if err := c.Validate(); !errors.As(err, &ce) || ce.Field != "IPAS_REMOTE_PATH_STYLE" || ce.Fix == "" {
		t.Fatalf("IPAS_REMOTE_PATH_STYLE=\"yes please\": %v", err)
	}
}
