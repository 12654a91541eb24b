package restore

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipas/ipas/internal/humanize"
)

// Progress is told what a restore does, as it happens. Its methods are
// called from several goroutines.
type Progress interface {
	// Source says where the object list comes from (the remote index, or
	// why the listing is used instead).
	Source(text string, snapshot bool)
	// Planned gives the totals to download, once planning is done.
	Planned(objects, bytes int64)
	// Fetched counts bytes as they arrive.
	Fetched(n int64)
	// Object reports one object's outcome.
	Object(o Outcome)
}

type nopProgress struct{}

func (nopProgress) Source(string, bool)  {}
func (nopProgress) Planned(int64, int64) {}
func (nopProgress) Fetched(int64)        {}
func (nopProgress) Object(Outcome)       {}

// JSONProgress writes one JSON line per object (and one for the source), for
// logs and scripts.
type JSONProgress struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONProgress writes to w.
func NewJSONProgress(w io.Writer) *JSONProgress { return &JSONProgress{w: w} }

// Source implements Progress.
func (p *JSONProgress) Source(text string, snapshot bool) {
	p.line(map[string]any{"source": text, "remote_index": snapshot})
}

// Planned implements Progress.
func (p *JSONProgress) Planned(objects, bytes int64) {
	p.line(map[string]any{"planned_objects": objects, "planned_bytes": bytes})
}

// Fetched implements Progress.
func (p *JSONProgress) Fetched(int64) {}

// Object implements Progress.
func (p *JSONProgress) Object(o Outcome) { p.line(o) }

func (p *JSONProgress) line(v any) {
	b, _ := json.Marshal(v)
	p.mu.Lock()
	p.w.Write(append(b, '\n'))
	p.mu.Unlock()
}

// TerminalProgress draws a progress bar (objects, bytes, rate, ETA) on one
// line and prints failures above it.
type TerminalProgress struct {
	w       io.Writer
	start   time.Time
	fetched atomic.Int64
	mu      sync.Mutex
	objects int64 // planned
	bytes   int64
	done    int64 // objects finished (any outcome) after planning
	doneB   int64 // planned bytes of finished objects
	planned bool
	stop    chan struct{}
	stopped sync.WaitGroup
}

// NewTerminalProgress draws on w (a terminal) until Close.
func NewTerminalProgress(w io.Writer) *TerminalProgress {
	p := &TerminalProgress{w: w, start: time.Now(), stop: make(chan struct{})}
	p.stopped.Add(1)
	go func() {
		defer p.stopped.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				p.draw(true)
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
	return p
}

// Source implements Progress.
func (p *TerminalProgress) Source(text string, snapshot bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[Kobject list: %s\n", text)
}

// Planned implements Progress.
func (p *TerminalProgress) Planned(objects, bytes int64) {
	p.mu.Lock()
	p.objects, p.bytes, p.planned = objects, bytes, true
	p.mu.Unlock()
}

// Fetched implements Progress.
func (p *TerminalProgress) Fetched(n int64) { p.fetched.Add(n) }

// Object implements Progress: failures are printed in full.
func (p *TerminalProgress) Object(o Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.planned {
		p.done++
		p.doneB += o.Size
	}
	if o.Status == Failed {
		fmt.Fprintf(p.w, "\r\033[Kfailed %s: %s\n", o.Name, o.Reason)
	}
}

// Close draws the final state and ends the line.
func (p *TerminalProgress) Close() {
	close(p.stop)
	p.stopped.Wait()
}

func (p *TerminalProgress) draw(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.planned {
		fmt.Fprintf(p.w, "\r\033[Kplanning: reading the remote listing...")
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	elapsed := time.Since(p.start).Seconds()
	got := p.fetched.Load()
	rate := float64(got) / max(elapsed, 0.001)
	frac := 1.0
	if p.bytes > 0 {
		frac = min(float64(p.doneB)/float64(p.bytes), 1)
	}
	const width = 30
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	eta := "--"
	if rate > 0 && p.bytes > p.doneB {
		eta = (time.Duration(float64(p.bytes-p.doneB)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K[%s] %d/%d objects  %s/%s  %s/s  ETA %s",
		bar, p.done, p.objects, humanize.Bytes(p.doneB), humanize.Bytes(p.bytes), humanize.Bytes(int64(rate)), eta)
	if final {
		fmt.Fprintln(p.w)
	}
}
