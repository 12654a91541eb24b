package queue

import (
	"bytes"
	"fmt"
	"io"
	"log"

	"github.com/hashicorp/go-hclog"
	"github.com/rs/zerolog"
)

// hclogAdapter routes hclog output (raft, raft-wal, the snapshot store) into
// zerolog. Levels map one to one; key/value pairs become fields; the logger
// name goes into "logger".
type hclogAdapter struct {
	zl      zerolog.Logger
	name    string
	implied []any
}

var _ hclog.Logger = (*hclogAdapter)(nil)

func newHclog(zl zerolog.Logger) *hclogAdapter {
	return &hclogAdapter{zl: zl.With().Str("component", "raft").Logger()}
}

func zerologLevel(l hclog.Level) zerolog.Level {
	switch l {
	case hclog.Trace:
		return zerolog.TraceLevel
	case hclog.Debug:
		return zerolog.DebugLevel
	case hclog.Info, hclog.NoLevel, hclog.DefaultLevel:
		return zerolog.InfoLevel
	case hclog.Warn:
		return zerolog.WarnLevel
	case hclog.Error:
		return zerolog.ErrorLevel
	case hclog.Off:
		return zerolog.Disabled
	}
	return zerolog.InfoLevel
}

// electionAtStart is the warning raft logs when a node that never knew a
// leader (every start, and always on a single node) holds an election:
// the normal way a node begins, not a problem.
const electionAtStart = "heartbeat timeout reached, starting election"

func (h *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Warn && msg == electionAtStart && noLeaderKnown(args) {
		level = hclog.Debug
	}
	ev := h.zl.WithLevel(zerologLevel(level))
	if ev == nil {
		return
	}
	if h.name != "" {
		ev = ev.Str("logger", h.name)
	}
	addPairs(ev, h.implied)
	addPairs(ev, args)
	ev.Msg(msg)
}

// noLeaderKnown reports whether the pairs say that no leader was known
// (last-leader-addr and last-leader-id empty or absent).
func noLeaderKnown(kv []any) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if k, _ := kv[i].(string); k == "last-leader-addr" || k == "last-leader-id" {
			if v := fmt.Sprint(kv[i+1]); v != "" {
				return false
			}
		}
	}
	return true
}

// addPairs turns hclog's alternating keys and values into fields.
func addPairs(ev *zerolog.Event, kv []any) {
	for i := 0; i < len(kv); i += 2 {
		if i+1 == len(kv) {
			ev.Interface("EXTRA_VALUE_AT_END", kv[i])
			break
		}
		key, ok := kv[i].(string)
		if !ok {
			key = fmt.Sprint(kv[i])
		}
		switch v := kv[i+1].(type) {
		case error:
			ev.AnErr(key, v)
		case fmt.Stringer:
			ev.Stringer(key, v)
		case hclog.Format:
			ev.Str(key, fmt.Sprintf(fmt.Sprint(v[0]), v[1:]...))
		default:
			ev.Interface(key, v)
		}
	}
}

func (h *hclogAdapter) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogAdapter) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogAdapter) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogAdapter) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogAdapter) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogAdapter) enabled(l zerolog.Level) bool {
	return h.zl.GetLevel() <= l && zerolog.GlobalLevel() <= l
}

func (h *hclogAdapter) IsTrace() bool { return h.enabled(zerolog.TraceLevel) }
func (h *hclogAdapter) IsDebug() bool { return h.enabled(zerolog.DebugLevel) }
func (h *hclogAdapter) IsInfo() bool  { return h.enabled(zerolog.InfoLevel) }
func (h *hclogAdapter) IsWarn() bool  { return h.enabled(zerolog.WarnLevel) }
func (h *hclogAdapter) IsError() bool { return h.enabled(zerolog.ErrorLevel) }

func (h *hclogAdapter) ImpliedArgs() []any { return h.implied }

func (h *hclogAdapter) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(append([]any(nil), h.implied...), args...)
	return &c
}

func (h *hclogAdapter) Name() string { return h.name }

func (h *hclogAdapter) Named(name string) hclog.Logger {
	c := *h
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (h *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel is ignored: the injected zerolog logger decides what is logged.
func (h *hclogAdapter) SetLevel(hclog.Level) {}

func (h *hclogAdapter) GetLevel() hclog.Level {
	switch h.zl.GetLevel() {
	case zerolog.TraceLevel:
		return hclog.Trace
	case zerolog.DebugLevel:
		return hclog.Debug
	case zerolog.InfoLevel:
		return hclog.Info
	case zerolog.WarnLevel:
		return hclog.Warn
	case zerolog.ErrorLevel, zerolog.FatalLevel, zerolog.PanicLevel:
		return hclog.Error
	case zerolog.Disabled:
		return hclog.Off
	}
	return hclog.Info
}

func (h *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hclogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return stdWriter{h}
}

// stdWriter logs each line written by a standard library logger at info.
type stdWriter struct{ h *hclogAdapter }

func (w stdWriter) Write(p []byte) (int, error) {
	w.h.Info(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
