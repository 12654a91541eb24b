package logring

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
)

// DefaultLines is how many lines a Ring keeps.
const DefaultLines = 1000

// MaxLineBytes bounds one kept line: a longer one keeps its level, time and
// message (cut at this length) without its other fields.
const MaxLineBytes = 8 << 10

// Ring is the last lines of the log. Write it with zerolog
// (zerolog.MultiLevelWriter(out, ring)); read it with Page.
type Ring struct {
	mu    sync.Mutex
	lines []admin.LogLine // circular, len <= cap
	start int             // index of the oldest line
	seq   uint64          // sequence number of the newest line
}

var _ zerolog.LevelWriter = (*Ring)(nil)

// New returns a Ring that keeps the last n lines (DefaultLines when n <= 0).
func New(n int) *Ring {
	if n <= 0 {
		n = DefaultLines
	}
	return &Ring{lines: make([]admin.LogLine, 0, n)}
}

// Write implements io.Writer: p is one JSON log line. A line that does not
// parse is kept as its text, so that nothing written is lost silently.
func (r *Ring) Write(p []byte) (int, error) {
	r.add(parse(p))
	return len(p), nil
}

// WriteLevel implements zerolog.LevelWriter.
func (r *Ring) WriteLevel(_ zerolog.Level, p []byte) (int, error) { return r.Write(p) }

func parse(p []byte) admin.LogLine {
	var l admin.LogLine
	var fields map[string]any
	if len(p) > MaxLineBytes || json.Unmarshal(p, &fields) != nil {
		var head struct {
			Level   string `json:"level"`
			Time    string `json:"time"`
			Message string `json:"message"`
		}
		if json.Unmarshal(p, &head) != nil {
			head.Message = string(p)
		}
		if len(head.Message) > MaxLineBytes {
			head.Message = head.Message[:MaxLineBytes] + "…"
		}
		l.Level, l.Message = head.Level, head.Message
		l.Time, _ = time.Parse(time.RFC3339Nano, head.Time)
	} else {
		l.Level, _ = fields[zerolog.LevelFieldName].(string)
		l.Message, _ = fields[zerolog.MessageFieldName].(string)
		if t, ok := fields[zerolog.TimestampFieldName].(string); ok {
			l.Time, _ = time.Parse(time.RFC3339Nano, t)
		}
		delete(fields, zerolog.LevelFieldName)
		delete(fields, zerolog.MessageFieldName)
		delete(fields, zerolog.TimestampFieldName)
		if len(fields) > 0 {
			l.Fields = fields
		}
	}
	if l.Time.IsZero() {
		l.Time = time.Now()
	}
	if l.Level == "" {
		l.Level = zerolog.NoLevel.String()
	}
	return l
}

func (r *Ring) add(l admin.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	l.Seq = r.seq
	if len(r.lines) < cap(r.lines) {
		r.lines = append(r.lines, l)
		return
	}
	r.lines[r.start] = l
	r.start = (r.start + 1) % len(r.lines)
}

// Last returns the sequence number of the newest line; 0 before the first.
func (r *Ring) Last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// Page returns the kept lines after q.After at q.Level or above, oldest
// first; with q.Limit, only the newest q.Limit of them.
func (r *Ring) Page(q admin.LogQuery) admin.LogPage {
	floor := zerolog.TraceLevel
	if q.Level != "" {
		if lv, err := zerolog.ParseLevel(q.Level); err == nil {
			floor = lv
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := admin.LogPage{Lines: []admin.LogLine{}, Last: r.seq}
	for i := range r.lines {
		l := r.lines[(r.start+i)%len(r.lines)]
		if l.Seq <= q.After || !atLeast(l.Level, floor) {
			continue
		}
		out.Lines = append(out.Lines, l)
	}
	if q.Limit > 0 && len(out.Lines) > q.Limit {
		out.Lines = out.Lines[len(out.Lines)-q.Limit:]
	}
	return out
}

// atLeast reports whether a line at level is shown at floor. A line without a
// known level is always shown.
func atLeast(level string, floor zerolog.Level) bool {
	lv, err := zerolog.ParseLevel(level)
	if err != nil || lv == zerolog.NoLevel {
		return true
	}
	return lv >= floor
}
