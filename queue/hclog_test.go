package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/rs/zerolog"
)

func TestHclogAdapter(t *testing.T) {
	var buf bytes.Buffer
	h := newHclog(zerolog.New(&buf).Level(zerolog.DebugLevel))
	named := h.Named("snapshot").With("id", "2-59-1")
	named.Warn("failed to read metadata", "name", "x", "error", errors.New("boom"), "size", 42, "odd")
	h.Trace("dropped: below the logger's level")
	h.Error("plain")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (trace filtered): %q", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"level": "warn", "component": "raft", "logger": "snapshot", "id": "2-59-1", "name": "x",
		"error": "boom", "size": float64(42), "EXTRA_VALUE_AT_END": "odd", "message": "failed to read metadata",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %v, want %v (line %s)", k, got[k], v, lines[0])
		}
	}
	if !strings.Contains(lines[1], `"level":"error"`) {
		t.Errorf("error line: %s", lines[1])
	}
	if h.IsTrace() || !h.IsDebug() || h.GetLevel() != hclog.Debug {
		t.Error("level queries do not follow the zerolog level")
	}
	h.StandardLogger(nil).Print("from the standard library")
	if !strings.Contains(buf.String(), `"message":"from the standard library"`) {
		t.Error("standard logger output lost")
	}
}

// TestHclogAdapter_ElectionAtStart: the election every node holds when it
// starts without a leader is logged at debug, not as a warning; losing a
// known leader stays a warning.
func TestHclogAdapter_ElectionAtStart(t *testing.T) {
	var buf bytes.Buffer
	h := newHclog(zerolog.New(&buf).Level(zerolog.DebugLevel))
	h.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "", "last-leader-id", "")
	h.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "10.0.0.2:7000", "last-leader-id", "node-b")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"level":"debug"`) || !strings.Contains(lines[1], `"level":"warn"`) {
		t.Errorf("levels: %q", lines)
	}
}
