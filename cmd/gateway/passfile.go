package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/pass"
)

// The last report of each background pass (reconcile, scrub) is kept under the
// data directory, so that its schedule survives restarts and status shows it.

// loadReport reads the report saved at path; nil when there is none or it
// cannot be read (the next pass then runs when the schedule starts).
func loadReport[R any](path string, log zerolog.Logger) *pass.Report[R] {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var rep pass.Report[R]
	if err == nil {
		err = json.Unmarshal(raw, &rep)
	}
	if err != nil {
		log.Warn().Err(err).Str("path", path).Msg("last pass report not read: the next pass runs as if there had been none; delete the file if this repeats")
		return nil
	}
	return &rep
}

// saveReport writes rep to path atomically.
func saveReport[R any](path string, rep pass.Report[R]) error {
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := writeFileAtomic(path, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// adminRun is the wire form of a report's common fields.
func adminRun[R any](rep *pass.Report[R]) admin.Run {
	run := admin.Run{Trigger: rep.Trigger, Reason: rep.Reason, Started: rep.Started,
		Seconds: rep.Duration().Round(time.Millisecond).Seconds(), Error: rep.Error}
	if !rep.Finished.IsZero() {
		f := rep.Finished
		run.Finished = &f
	}
	return run
}

// nextPass is when the runner's next scheduled pass is due, for status.
func nextPass[R any](r *pass.Runner[R]) *time.Time {
	t, ok := r.Next()
	if !ok {
		return nil
	}
	t = t.UTC()
	return &t
}

// requestPass starts a pass of r on an admin's request (or joins the one
// running); outside the runner's term it says why in the admin API's words:
// unable (who cannot run it and what to do instead).
func requestPass[R any](r *pass.Runner[R], reason, unable string) error {
	_, _, err := r.Start(pass.TriggerRequest, reason)
	if errors.Is(err, pass.ErrNotRunning) {
		return fmt.Errorf("%w: %s", admin.ErrInvalid, unable)
	}
	return err
}
