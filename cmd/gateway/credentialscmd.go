package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// runCredentials is `gateway credentials [--env]`: the S3 credential the
// daemon accepts (the configured one, else the generated one), as export
// lines for a shell with --env, so that `eval "$(gateway credentials --env)"`
// sets up the aws CLI and the SDKs.
func runCredentials(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("credentials", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf configFlags
	cf.register(fs)
	env := fs.Bool("env", false, "print export lines for a shell (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL), secret included")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	cred, err := daemonCredential(cfg)
	if err != nil {
		return err
	}
	if !*env {
		fmt.Fprintf(stdout, "access key: %s\nsecret key: in %s (or run `gateway credentials --env`)\n",
			cred.AccessKey, filepath.Join(cfg.DataDir, CredentialsFile))
		return nil
	}
	for _, kv := range [][2]string{
		{"AWS_ACCESS_KEY_ID", cred.AccessKey}, {"AWS_SECRET_ACCESS_KEY", cred.SecretKey},
		{"AWS_DEFAULT_REGION", cfg.S3.Region}, {"AWS_ENDPOINT_URL", daemonURL(cfg)},
	} {
		fmt.Fprintf(stdout, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
