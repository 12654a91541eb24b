package pass

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Triggers say why a pass ran.
const (
	TriggerStartup  = "startup"
	TriggerSchedule = "schedule"
	TriggerRequest  = "request"
)

// ErrNotRunning means the Runner has no context to run passes in: it is
// not started (RunTerm), or this node does not lead the journal.
var ErrNotRunning = errors.New("pass: not running")

// Func runs one pass. It calls progress with its counts so far as it goes
// (a value it no longer changes: a copy); the result it returns is the final
// count, also when it returns an error.
type Func[R any] func(ctx context.Context, progress func(R)) (R, error)

// Report is one pass, running or finished.
type Report[R any] struct {
	Trigger  string    `json:"trigger"`
	Reason   string    `json:"reason,omitempty"` // why it was triggered, for the log and status
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"` // zero while running
	Error    string    `json:"error,omitempty"`
	Result   R         `json:"result"`
}

// Duration is how long the pass took, or has run so far.
func (r *Report[R]) Duration() time.Duration {
	if r.Finished.IsZero() {
		return time.Since(r.Started)
	}
	return r.Finished.Sub(r.Started)
}

// State is what the Runner knows: the pass in progress and the last one
// that finished (nil when none).
type State[R any] struct {
	Running *Report[R] `json:"running,omitempty"`
	Last    *Report[R] `json:"last,omitempty"`
}

// Runner runs passes of one Func. Create it with New, set the exported
// fields, then call RunTerm.
type Runner[R any] struct {
	// Interval is the time between two scheduled passes, counted from the
	// start of the last one (also across restarts, through Last); 0 turns
	// the schedule off.
	Interval time.Duration
	// Retry, when not 0, is the time after a failed pass (the remote was
	// unreachable, the daemon stopped) until it is tried again, whatever
	// Interval says.
	Retry time.Duration
	// OnDone is called with every finished report (to persist it).
	OnDone func(Report[R])

	name string
	fn   Func[R]
	log  zerolog.Logger

	mu      sync.Mutex
	ctx     context.Context // the term's context; nil outside RunTerm
	running *run[R]
	last    *Report[R]
	wake    chan struct{}
}

type run[R any] struct {
	report Report[R]
	done   chan struct{}
}

// New returns a Runner for fn; last is the report of the last pass before
// a restart (nil for none).
func New[R any](name string, fn Func[R], last *Report[R], log zerolog.Logger) *Runner[R] {
	return &Runner[R]{name: name, fn: fn, last: last, log: log, wake: make(chan struct{}, 1)}
}

// RunTerm lets passes run until ctx ends, starting scheduled ones when they
// are due; a pass in progress is cancelled with ctx. Call it once per
// leadership term (or once, for work every node does). A first trigger
// (TriggerStartup and why), unless "", starts a pass at once.
func (r *Runner[R]) RunTerm(ctx context.Context, first, reason string) {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	if first != "" {
		r.Start(first, reason)
	}
	defer func() {
		r.mu.Lock()
		r.ctx = nil
		cur := r.running
		r.mu.Unlock()
		if cur != nil {
			<-cur.done
		}
	}()
	for {
		wait, due := r.untilDue(time.Now())
		if due && wait <= 0 {
			if _, _, err := r.Start(TriggerSchedule, r.scheduleReason()); err != nil {
				return // ctx ended
			}
			continue // wait for it to end
		}
		if !due {
			wait = -1
		}
		var timer *time.Timer
		var tick <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
		case <-tick:
		case <-r.wake:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// untilDue is how long until the next scheduled pass (due false: none is):
// Interval after the start of the last pass (now if there was none), or
// Retry after the end of a failed one. Nothing is due
// while a pass runs.
func (r *Runner[R]) untilDue(now time.Time) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch last := r.last; {
	case r.running != nil:
		return 0, false
	case last != nil && last.Error != "" && r.Retry > 0:
		return last.Finished.Add(r.Retry).Sub(now), true
	case r.Interval <= 0:
		return 0, false
	case last == nil:
		return 0, true
	default:
		return last.Started.Add(r.Interval).Sub(now), true
	}
}

func (r *Runner[R]) scheduleReason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil && r.last.Error != "" && r.Retry > 0 {
		return "retry after: " + r.last.Error
	}
	return fmt.Sprintf("every %s", r.Interval)
}

// Start starts a pass, or returns the one in progress (started false). It
// fails with ErrNotRunning outside RunTerm.
func (r *Runner[R]) Start(trigger, reason string) (rep Report[R], started bool, err error) {
	cur, started, err := r.start(trigger, reason)
	if err != nil {
		return Report[R]{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return cur.report, started, nil
}

func (r *Runner[R]) start(trigger, reason string) (*run[R], bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running != nil {
		return r.running, false, nil
	}
	if r.ctx == nil || r.ctx.Err() != nil {
		return nil, false, fmt.Errorf("%s: %w", r.name, ErrNotRunning)
	}
	cur := &run[R]{report: Report[R]{Trigger: trigger, Reason: reason, Started: time.Now().UTC()}, done: make(chan struct{})}
	r.running = cur
	go r.execute(r.ctx, cur)
	return cur, true, nil
}

func (r *Runner[R]) execute(ctx context.Context, cur *run[R]) {
	log := r.log.With().Str("trigger", cur.report.Trigger).Logger()
	log.Info().Str("reason", cur.report.Reason).Msgf("%s started", r.name)
	res, err := r.fn(ctx, func(p R) {
		r.mu.Lock()
		cur.report.Result = p
		r.mu.Unlock()
	})
	r.mu.Lock()
	cur.report.Result = res
	cur.report.Finished = time.Now().UTC()
	if err != nil {
		cur.report.Error = err.Error()
	}
	rep := cur.report
	r.mu.Unlock()
	if err != nil {
		log.Error().Err(err).Dur("took", rep.Duration()).Msgf("%s failed", r.name)
	} else {
		log.Info().Dur("took", rep.Duration()).Msgf("%s finished", r.name)
	}
	// Before the pass ends, so that reports are handed over one at a time,
	// in order.
	if r.OnDone != nil {
		r.OnDone(rep)
	}
	r.mu.Lock()
	r.last = &rep
	r.running = nil
	r.mu.Unlock()
	close(cur.done)
	select {
	case r.wake <- struct{}{}: // the schedule counts from this pass
	default:
	}
}

// Run starts a pass (or joins the one in progress) and waits for it.
func (r *Runner[R]) Run(ctx context.Context, trigger, reason string) (Report[R], error) {
	cur, _, err := r.start(trigger, reason)
	if err != nil {
		return Report[R]{}, err
	}
	select {
	case <-cur.done:
	case <-ctx.Done():
		return Report[R]{}, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return cur.report, nil
}

// State returns copies of the running and last reports.
func (r *Runner[R]) State() State[R] {
	r.mu.Lock()
	defer r.mu.Unlock()
	var st State[R]
	if r.running != nil {
		rep := r.running.report
		st.Running = &rep
	}
	if r.last != nil {
		rep := *r.last
		st.Last = &rep
	}
	return st
}

// Next returns when the next scheduled pass is due (ok false: none is
// scheduled, or one is running).
func (r *Runner[R]) Next() (time.Time, bool) {
	now := time.Now()
	wait, due := r.untilDue(now)
	if !due {
		return time.Time{}, false
	}
	return now.Add(max(wait, 0)), true
}
