package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/console"
	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/users"
)

// The web console's defaults and names.
const (
	// DefaultConsoleAddress is console.address; "" turns the console off.
	DefaultConsoleAddress = ":9001"
	// EnvConsoleAddress overrides console.address.
	EnvConsoleAddress = "IPAS_CONSOLE_ADDR"
	// ConsolePasswordFile is the name, under the data directory, of the bcrypt
	// hash of the console password generated on first start.
	ConsolePasswordFile = "console-password"
)

// validate checks the console section; s3Address is checked already.
func (c ConsoleConfig) validate(s3Address string) error {
	if c.Address == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil || port == "" {
		return &ConfigError{Field: "console.address", Problem: fmt.Sprintf("%q is not HOST:PORT", c.Address),
			Fix: `write it like 127.0.0.1:9001 or :9001, or "" to turn the console off`}
	}
	s3Host, s3Port, _ := net.SplitHostPort(s3Address)
	if port == s3Port && port != "0" && (host == s3Host || host == "" || s3Host == "") {
		return &ConfigError{Field: "console.address", Problem: fmt.Sprintf("%q uses the port of s3.address", c.Address),
			Fix: "give the console its own port, e.g. " + DefaultConsoleAddress}
	}
	return nil
}

// startConsole serves the web console until ctx ends, when cfg has an address.
// It returns the console's URL ("" when off) and a wait that returns once the
// console has stopped. On first start it generates the console password and
// shows it on the terminal, as the S3 credential is.
func startConsole(ctx context.Context, cfg Config, gcfg gateway.Config, dir *users.Directory, dataDir string, ctrl admin.Controller,
	terminal io.Writer, log zerolog.Logger) (url string, wait func() error, err error) {
	if cfg.Console.Address == "" {
		log.Info().Msg("web console off (console.address is empty)")
		return "", func() error { return nil }, nil
	}
	pwFile := cfg.Console.PasswordFile
	if pwFile == "" {
		pwFile = filepath.Join(dataDir, ConsolePasswordFile)
	}
	password, created, err := loadOrCreateConsolePassword(pwFile)
	if err != nil {
		return "", nil, err
	}
	if created {
		showConsolePassword(terminal, isTerminal(os.Stderr), password, pwFile)
	}
	srv := console.New(ctrl, console.Login{Credentials: gcfg.Credentials, IsAdmin: isAdmin(dir), PasswordFile: pwFile}, log)
	srv.Users = dir
	scheme := "http"
	if gcfg.CertFile != "" {
		if srv.TLS, err = gateway.TLSConfig(gcfg.CertFile, gcfg.KeyFile); err != nil {
			return "", nil, fmt.Errorf("console: %w", err)
		}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", cfg.Console.Address)
	if err != nil {
		return "", nil, fmt.Errorf("console.address %s: %w; choose a free port with %s, or set console.address to \"\" to turn the console off",
			cfg.Console.Address, err, EnvConsoleAddress)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return scheme + "://" + ln.Addr().String(), func() error { return <-done }, nil
}

// loadOrCreateConsolePassword checks the password file at path, or creates it
// (0600, fsynced) with the hash of a new random password, which it returns
// with created true so that the caller can show it once.
func loadOrCreateConsolePassword(path string) (password string, created bool, err error) {
	_, err = console.ReadPasswordHash(path)
	switch {
	case err == nil:
		return "", false, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", false, fmt.Errorf("%w; delete it to generate a new password, or write a bcrypt hash into it (see README.md \"Web console\")", err)
	}
	password = rand.Text() // 26 base32 characters, 128 bits
	hash, err := console.HashPassword(password)
	if err != nil {
		return "", false, err
	}
	if err := writeFileAtomic(path, hash, 0o600); err != nil {
		return "", false, fmt.Errorf("console password %s: %w", path, err)
	}
	return password, true, nil
}

// showConsolePassword prints a generated console password once, and only to
// an interactive terminal: under a service manager it would end up in a log.
func showConsolePassword(w io.Writer, interactive bool, password, path string) {
	fmt.Fprintf(w, "\nIPAS generated a web console password (its bcrypt hash is in %s, mode 0600):\n", path)
	if interactive {
		fmt.Fprintf(w, "  console password: %s\n", password)
		fmt.Fprintf(w, "Sign in with it, leaving the access key empty; this is the only time it is shown.\n\n")
	} else {
		fmt.Fprintf(w, "  console password: not printed (this is not a terminal); sign in with an S3 access key and\n")
		fmt.Fprintf(w, "  its secret instead, or set a password: see README.md \"Web console\"\n\n")
	}
}
