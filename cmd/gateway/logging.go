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
// unless the configuration forces one. Each also gets every line as JSON (the
// log ring of the admin API).
func newLogger(c LogConfig, out *os.File, also ...io.Writer) zerolog.Logger {
	var w io.Writer = out
	console := c.Format == "console" || (c.Format == "auto" && isTerminal(out))
	if console {
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly}
	}
	if len(also) > 0 {
		w = zerolog.MultiLevelWriter(append([]io.Writer{w}, also...)...)
	}
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		level = zerolog.InfoLevel // Validate has already refused bad levels.
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
