package main

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// Log keys shared by every component, so log queries stay stable.
const (
	LogKeyComponent = "component"
)

// isTerminal reports whether f is a character device (a terminal), without cgo.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newLogger builds the root logger: console output on a terminal, JSON otherwise,
// unless the configuration forces one.
func newLogger(c LogConfig, out *os.File) zerolog.Logger {
	var w io.Writer = out
	console := c.Format == "console" || (c.Format == "auto" && isTerminal(out))
	if console {
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly}
	}
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		level = zerolog.InfoLevel // Validate has already refused bad levels.
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
