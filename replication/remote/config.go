package remote

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Defaults for Config.
const (
	// DefaultRegion is used when neither the config nor the environment names one.
	DefaultRegion = "us-east-1"
)

// Environment variables read by FromEnv, for scripts.
const (
	EnvEndpoint  = "IPAS_REMOTE_ENDPOINT"
	EnvBucket    = "IPAS_REMOTE_BUCKET"
	EnvRegion    = "IPAS_REMOTE_REGION"
	EnvAccessKey = "IPAS_REMOTE_ACCESS_KEY"
	EnvSecretKey = "IPAS_REMOTE_SECRET_KEY"
	// EnvPathStyle is "true" or "false" (strconv.ParseBool); a value that
	// does not parse is ignored here and refused by the daemon's config.
	EnvPathStyle = "IPAS_REMOTE_PATH_STYLE"
)

// Server-side encryption modes.
const (
	SSENone = ""
	SSES3   = "AES256"  // SSE-S3
	SSEKMS  = "aws:kms" // SSE-KMS, with KMSKeyID or the account's default key
)

// Config says where and how objects are replicated.
type Config struct {
	// Endpoint is the S3 URL (https://s3.example.com); empty means AWS.
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
	Bucket   string `yaml:"bucket"`
	// Prefix is prepended to every remote key ("pi1" -> pi1/bucket/key).
	Prefix string `yaml:"prefix"`
	// StorageClass (STANDARD, STANDARD_IA, GLACIER_IR, ...); empty: the bucket's default.
	StorageClass string `yaml:"storage_class"`
	// PathStyle addresses the bucket as endpoint/bucket instead of
	// bucket.endpoint; most S3-compatible services need it.
	PathStyle bool `yaml:"path_style"`
	// AccessKey and SecretKey; when empty the SDK's default chain is used
	// (AWS_* environment, shared config profile, instance role).
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// Profile selects a shared config profile for the default chain.
	Profile string `yaml:"profile"`
	// SSE is SSENone, SSES3 or SSEKMS; KMSKeyID goes with SSEKMS.
	SSE      string `yaml:"sse"`
	KMSKeyID string `yaml:"kms_key_id"`
}

// DefaultConfig returns a Config with defaults filled in.
func DefaultConfig() Config { return Config{Region: DefaultRegion} }

// FromEnv overrides c's fields with the IPAS_REMOTE_* variables that are set.
func (c Config) FromEnv() Config {
	set := func(dst *string, name string) {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			*dst = v
		}
	}
	set(&c.Endpoint, EnvEndpoint)
	set(&c.Bucket, EnvBucket)
	set(&c.Region, EnvRegion)
	set(&c.AccessKey, EnvAccessKey)
	set(&c.SecretKey, EnvSecretKey)
	if b, err := strconv.ParseBool(os.Getenv(EnvPathStyle)); err == nil {
		c.PathStyle = b
	}
	return c
}

// Validate names the first bad field and how to fix it.
func (c Config) Validate() error {
	switch {
	case c.Bucket == "":
		return fmt.Errorf("remote: bucket is empty: set remote.bucket or %s", EnvBucket)
	case c.Region == "":
		return fmt.Errorf("remote: region is empty: set remote.region (for example %s)", DefaultRegion)
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return fmt.Errorf("remote: access_key and secret_key go together: set both, or neither to use the SDK's default chain")
	case c.SSE != SSENone && c.SSE != SSES3 && c.SSE != SSEKMS:
		return fmt.Errorf("remote: sse %q: use %q (SSE-S3), %q (SSE-KMS) or leave it empty", c.SSE, SSES3, SSEKMS)
	case c.KMSKeyID != "" && c.SSE != SSEKMS:
		return fmt.Errorf("remote: kms_key_id is set but sse is %q: set sse to %q", c.SSE, SSEKMS)
	case c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://"):
		return fmt.Errorf("remote: endpoint %q: give a URL starting with https:// (or http://)", c.Endpoint)
	case strings.HasPrefix(c.Prefix, "/") || strings.Contains(c.Prefix, "//"):
		return fmt.Errorf("remote: prefix %q: no leading slash and no empty segments", c.Prefix)
	}
	return nil
}

// keyPrefix is the prefix with exactly one trailing slash, or "".
func (c Config) keyPrefix() string {
	p := strings.TrimSuffix(c.Prefix, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}
