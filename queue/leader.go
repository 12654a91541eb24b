package queue

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// barrierRetry is the pause between Barrier attempts while still leader.
const barrierRetry = 100 * time.Millisecond

// leadership tracks the current leader term: it starts once this node is
// leader and its state machine has applied every earlier entry (Barrier),
// and its context is cancelled when leadership is lost.
type leadership struct {
	mu      sync.Mutex
	term    context.Context // nil while not an established leader
	cancel  context.CancelFunc
	changed chan struct{} // closed and replaced whenever term changes
}

func (l *leadership) init() { l.changed = make(chan struct{}) }

func (l *leadership) begin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.term != nil {
		return
	}
	l.term, l.cancel = context.WithCancel(context.Background())
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *leadership) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.term == nil {
		return
	}
	l.cancel()
	l.term, l.cancel = nil, nil
	close(l.changed)
	l.changed = make(chan struct{})
}

// current returns the established term's context, or nil and a channel that
// is closed on the next change.
func (l *leadership) current() (context.Context, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.term, l.changed
}

// next waits for an established term.
func (l *leadership) next(ctx context.Context, stop <-chan struct{}) (context.Context, error) {
	for {
		term, changed := l.current()
		if term != nil {
			return term, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-stop:
			return nil, ErrClosed
		}
	}
}

func (l *leadership) wait(ctx context.Context, stop <-chan struct{}) error {
	_, err := l.next(ctx, stop)
	return err
}

// monitorLeadership follows raft's leader channel (lossy, never blocks raft:
// only the latest transition matters).
func (n *Node) monitorLeadership() {
	defer n.bg.Done()
	ch := n.raft.LeaderCh()
	for {
		select {
		case <-n.stop:
			n.lead.end()
			return
		case isLeader := <-ch:
			if !isLeader {
				n.lead.end()
				n.log.Info().Msg("leadership lost")
				continue
			}
			if n.barrier() {
				n.lead.begin()
				n.log.Info().Msg("leadership established")
			}
		}
	}
}

// barrier waits until the state machine has applied every entry before this
// term, retrying while this node stays leader.
func (n *Node) barrier() bool {
	for n.raft.State() == raft.Leader {
		err := n.raft.Barrier(n.cfg.ApplyTimeout).Error()
		if err == nil {
			return true
		}
		n.log.Warn().Err(err).Msg("barrier after winning the election")
		select {
		case <-n.stop:
			return false
		case <-time.After(barrierRetry):
		}
	}
	return false
}

// IsLeader reports whether this node is the raft leader.
func (n *Node) IsLeader() bool {
	return n.raft != nil && n.raft.State() == raft.Leader
}

// WaitLeader returns once this node is an established leader (its state
// machine has caught up), or with ctx's error, or ErrClosed.
func (n *Node) WaitLeader(ctx context.Context) error {
	return n.lead.wait(ctx, n.stop)
}

// RunAsLeader runs fn each time this node becomes an established leader,
// with a context that is cancelled when leadership is lost, ctx ends or
// the node closes. It returns when ctx ends or the node closes; if fn
// returns early, it is not restarted before the next term.
func (n *Node) RunAsLeader(ctx context.Context, fn func(ctx context.Context)) {
	for {
		term, err := n.lead.next(ctx, n.stop)
		if err != nil {
			return
		}
		runCtx, cancel := context.WithCancel(term)
		stopAfter := context.AfterFunc(ctx, cancel)
		fn(runCtx)
		select {
		case <-term.Done():
		case <-ctx.Done():
		case <-n.stop:
		}
		stopAfter()
		cancel()
		if ctx.Err() != nil {
			return
		}
		select {
		case <-n.stop:
			return
		default:
		}
	}
}
