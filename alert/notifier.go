package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
)

// Channel delivers notices to a human.
type Channel interface {
	// Name says where notices go, without secrets, for logs and tests.
	Name() string
	Send(ctx context.Context, n Notice) error
}

// StatusSource is where the conditions are read: the daemon's status.
type StatusSource interface {
	Status(ctx context.Context) (admin.Status, error)
}

// StateStore keeps the Tracker's state across restarts.
type StateStore interface {
	// Load returns the saved state; nil with no error when there is none.
	Load() ([]byte, error)
	Save(state []byte) error
}

// ErrNoChannel: a test alert has nowhere to go.
var ErrNoChannel = errors.New("alert: no channel configured (alerts.webhooks, alerts.email)")

// Notifier checks the conditions every Interval and sends the notices.
// Create it with New, then call Run.
type Notifier struct {
	// SendTimeout bounds one delivery; MaxAttempts is how many checks a
	// failed delivery is retried at.
	SendTimeout time.Duration
	MaxAttempts int

	cfg      Config
	host     string
	channels []Channel
	src      StatusSource
	store    StateStore
	log      zerolog.Logger
	now      func() time.Time

	mu      sync.Mutex // guards tracker and outbox
	tracker *Tracker
	outbox  []delivery
}

// delivery is a notice one channel has not taken yet.
type delivery struct {
	ch       Channel
	n        Notice
	attempts int
}

// New returns the Notifier of cfg (validated) for host (named in every
// notice), with the channels cfg configures, reading src and keeping its
// state in store (nil: kept in memory only).
func New(cfg Config, host string, src StatusSource, store StateStore, log zerolog.Logger) (*Notifier, error) {
	n := &Notifier{
		SendTimeout: DefaultSendTimeout,
		MaxAttempts: DefaultMaxAttempts,
		cfg:         cfg,
		host:        host,
		src:         src,
		store:       store,
		log:         log.With().Str("component", "alert").Logger(),
		now:         time.Now,
	}
	client := &http.Client{Timeout: DefaultSendTimeout}
	for _, w := range cfg.Webhooks {
		n.channels = append(n.channels, NewWebhook(w, client))
	}
	if cfg.Email.configured() {
		n.channels = append(n.channels, NewEmail(cfg.Email))
	}
	var saved []Active
	if store != nil {
		raw, err := store.Load()
		if err != nil {
			return nil, fmt.Errorf("alert: load state: %w", err)
		}
		if raw != nil {
			if err := json.Unmarshal(raw, &saved); err != nil {
				// The state is a convenience: starting afresh only repeats alerts.
				n.log.Warn().Err(err).Msg("alert state unreadable; alerts that hold will be sent again")
				saved = nil
			}
		}
	}
	n.tracker = NewTracker(cfg.Reminder, cfg.ResolveAfter, saved)
	return n, nil
}

// Channels returns where notices go.
func (n *Notifier) Channels() []Channel { return n.channels }

// Run checks the conditions every Interval until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	if len(n.channels) == 0 {
		n.log.Info().Msg("no alert channel configured (alerts.webhooks, alerts.email): alerts show on the console only")
	}
	t := time.NewTicker(n.cfg.Interval)
	defer t.Stop()
	for {
		if err := n.Check(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn().Err(err).Msg("alert check")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check reads the status once, updates the alerts and delivers what is due.
func (n *Notifier) Check(ctx context.Context) error {
	st, err := n.src.Status(ctx)
	if err != nil {
		return err
	}
	if st.Replication.State == admin.StateStandby {
		return nil // the leader watches replication
	}
	conds := Evaluate(st, n.cfg.thresholds())
	n.mu.Lock()
	notices, changed := n.tracker.Update(n.now(), conds)
	var saved []byte
	if changed {
		saved, _ = json.Marshal(n.tracker.Active()) // plain data: cannot fail
	}
	for _, no := range notices {
		no.Host = n.host
		ev := n.log.Warn()
		if no.Event == EventResolved {
			ev = n.log.Info()
		}
		ev.Str("event", no.Event).Str("alert", no.Kind).Msg(no.Summary)
		for _, ch := range n.channels {
			n.outbox = append(n.outbox, delivery{ch: ch, n: no})
		}
	}
	if over := len(n.outbox) - maxOutbox; over > 0 {
		n.log.Error().Int("dropped", over).Msg("alert notices dropped: their channels have been failing")
		n.outbox = n.outbox[over:]
	}
	n.mu.Unlock()
	if saved != nil && n.store != nil {
		if err := n.store.Save(saved); err != nil {
			n.log.Warn().Err(err).Msg("alert state not saved; a restart may repeat alerts")
		}
	}
	n.deliver(ctx)
	return nil
}

// deliver sends the outbox in order; what fails stays for the next check.
func (n *Notifier) deliver(ctx context.Context) {
	n.mu.Lock()
	pending := n.outbox
	n.outbox = nil
	n.mu.Unlock()
	var keep []delivery
	down := map[Channel]bool{} // a channel that failed gets no more tries this round
	for _, d := range pending {
		if ctx.Err() != nil || down[d.ch] {
			keep = append(keep, d)
			continue
		}
		err := n.send(ctx, d.ch, d.n)
		if err == nil {
			n.log.Info().Str("channel", d.ch.Name()).Str("event", d.n.Event).Str("alert", d.n.Kind).Msg("alert sent")
			continue
		}
		down[d.ch] = true
		d.attempts++
		if d.attempts >= n.MaxAttempts {
			n.log.Error().Err(err).Str("alert", d.n.Kind).Int("attempts", d.attempts).Msg("alert notice given up")
			continue
		}
		n.log.Warn().Err(err).Str("alert", d.n.Kind).Int("attempts", d.attempts).Msg("alert not delivered; retrying at the next check")
		keep = append(keep, d)
	}
	n.mu.Lock()
	n.outbox = append(keep, n.outbox...)
	n.mu.Unlock()
}

func (n *Notifier) send(ctx context.Context, ch Channel, no Notice) error {
	ctx, cancel := context.WithTimeout(ctx, n.SendTimeout)
	defer cancel()
	return ch.Send(ctx, no)
}

// Active returns the alerts in force, for the status.
func (n *Notifier) Active() []admin.Alert {
	n.mu.Lock()
	active := n.tracker.Active()
	n.mu.Unlock()
	out := make([]admin.Alert, 0, len(active))
	for _, a := range active {
		out = append(out, admin.Alert{Kind: a.Kind, Summary: a.Summary, Detail: a.Detail,
			Since: a.Since, Notified: a.Notified, Clearing: !a.ClearSince.IsZero()})
	}
	return out
}

// Test sends a test notice through every channel at once and reports each
// answer; ErrNoChannel when there is none.
func (n *Notifier) Test(ctx context.Context) (admin.AlertTest, error) {
	if len(n.channels) == 0 {
		return admin.AlertTest{}, ErrNoChannel
	}
	now := n.now()
	no := Notice{Event: EventTest, Kind: KindTest, Summary: "test alert", Since: now, Time: now, Host: n.host,
		Detail: "This is a test alert sent by `gateway alert test` (or the console). If you read it, IPAS can reach you here."}
	var out admin.AlertTest
	for _, ch := range n.channels {
		r := admin.AlertChannel{Name: ch.Name(), OK: true}
		if err := n.send(ctx, ch, no); err != nil {
			r.OK, r.Error = false, err.Error()
		}
		out.Channels = append(out.Channels, r)
	}
	n.log.Info().Int("channels", len(out.Channels)).Msg("test alert sent")
	return out, nil
}
