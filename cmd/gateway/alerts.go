package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/alert"
)

// AlertStateFile is the name, under the data directory, of the alerts
// announced and not resolved yet, so that a restart neither repeats nor
// forgets them.
const AlertStateFile = "alerts.json"

// validateAlerts names a bad field of the alerts section with its full path.
func validateAlerts(c alert.Config) error {
	err := c.Validate()
	var fe *alert.FieldError
	if errors.As(err, &fe) {
		return &ConfigError{Field: "alerts." + fe.Field, Problem: fe.Problem, Fix: fe.Fix}
	}
	return err
}

// alertStateFile keeps the alerts' state in DATA_DIR/alerts.json.
type alertStateFile string

var _ alert.StateStore = alertStateFile("")

// Load implements alert.StateStore.
func (f alertStateFile) Load() ([]byte, error) {
	raw, err := os.ReadFile(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return raw, err
}

// Save implements alert.StateStore.
func (f alertStateFile) Save(state []byte) error { return writeFileAtomic(string(f), state, 0o600) }

// startAlerts checks the alert conditions in the daemon's status until ctx
// ends, and shows the alerts in force in that status; wait returns once the
// checks have stopped.
func startAlerts(ctx context.Context, cfg Config, dataDir string, ctrl *control, log zerolog.Logger) (wait func(), err error) {
	host, err := os.Hostname()
	if err != nil {
		host = "ipas"
	}
	n, err := alert.New(cfg.Alerts, host, withDisk{ctrl, dataDir}, alertStateFile(filepath.Join(dataDir, AlertStateFile)), log)
	if err != nil {
		return nil, err
	}
	ctrl.alerts = n // before the first check, which reads it
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	return func() { <-done }, nil
}

// TestAlert implements admin.Alerter.
func (c *control) TestAlert(ctx context.Context) (admin.AlertTest, error) {
	if c.alerts == nil {
		return admin.AlertTest{}, fmt.Errorf("%w: alerts are not running", admin.ErrConflict)
	}
	res, err := c.alerts.Test(ctx)
	if errors.Is(err, alert.ErrNoChannel) {
		return res, fmt.Errorf("%w: %v; see README.md \"Alerts\"", admin.ErrConflict, err)
	}
	return res, err
}

// errAlertFailed makes `gateway alert test` exit 1 when a channel failed.
var errAlertFailed = errors.New("the test alert did not reach every channel")

// runAlert is `gateway alert test`: the running daemon sends a test alert
// through every channel it has.
func runAlert(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprint(stderr, "Usage: gateway alert test [FLAGS]\n\nAsks the running daemon to send a test alert through every channel of its\nalerts section (webhooks, email) and prints each channel's answer.\n")
		return errUsage
	}
	fs := flag.NewFlagSet("alert test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlFlags
	cf.register(fs)
	if err := parseFlags(fs, args[1:], 0); err != nil {
		return err
	}
	c, endpoint, err := cf.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout+alert.DefaultSendTimeout)
	defer cancel()
	c.HTTP.Timeout = controlTimeout + alert.DefaultSendTimeout // each channel may take its send timeout
	res, err := c.TestAlert(ctx)
	if err != nil {
		var apiErr *admin.APIError
		if errors.As(err, &apiErr) && apiErr.Code == "Conflict" {
			return errors.New(strings.TrimPrefix(apiErr.Message, admin.ErrConflict.Error()+": "))
		}
		return explain(err, endpoint)
	}
	failed := false
	for _, ch := range res.Channels {
		if ch.OK {
			fmt.Fprintf(stdout, "ok      %s\n", ch.Name)
		} else {
			failed = true
			fmt.Fprintf(stdout, "FAILED  %s: %s\n", ch.Name, ch.Error)
		}
	}
	if failed {
		return errAlertFailed
	}
	return nil
}
