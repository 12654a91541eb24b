package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// proposer lets concurrent callers share raft entries, and so fsyncs.
// There is no timer: a lone writer's command is proposed at once; whatever
// queues while MaxInflightEntries entries are in flight goes into the next
// entry, up to MaxBatchCommands commands or MaxBatchBytes bytes.
type proposer struct {
	raft *raft.Raft
	cfg  Config
	// space returns ErrNoSpace while the disk is full: commands that add
	// data are refused then (command.addsData).
	space func() error

	mu      sync.Mutex
	queue   []*request
	closing bool
	wake    chan struct{} // a request was queued
	slots   chan struct{} // one token per entry in flight
	stop    chan struct{}
	loop    sync.WaitGroup
	flights sync.WaitGroup
}

type request struct {
	cmd  []byte
	done chan error // buffered: the proposer never blocks on a caller that left
	// group is how many requests, this one first, go into one entry
	// (proposeCmds together); 0 and 1 mean this one alone.
	group int
}

func newProposer(r *raft.Raft, cfg Config, space func() error) *proposer {
	p := &proposer{
		raft:  r,
		cfg:   cfg,
		space: space,
		wake:  make(chan struct{}, 1),
		slots: make(chan struct{}, cfg.MaxInflightEntries),
		stop:  make(chan struct{}),
	}
	p.loop.Add(1)
	go p.run()
	return p
}

// propose commits c and returns its result. If ctx ends first the command
// may still commit; retrying with the same IDs is safe.
func (p *proposer) propose(ctx context.Context, c *command) error {
	return p.proposeAll(ctx, []*command{c})[0]
}

// proposeAll queues cmds together, so that they fill entries in order, and
// returns one result per command.
func (p *proposer) proposeAll(ctx context.Context, cmds []*command) []error {
	return p.proposeCmds(ctx, cmds, false)
}

// proposeCmds is proposeAll; with together the commands share one entry, and
// so one fsync, whatever MaxBatchCommands says: only a group larger than
// MaxBatchBytes is cut into several entries.
func (p *proposer) proposeCmds(ctx context.Context, cmds []*command, together bool) []error {
	errs := make([]error, len(cmds))
	reqs := make([]*request, 0, len(cmds))
	idx := make([]int, 0, len(cmds))
	for i, c := range cmds {
		if err := c.validate(); err != nil {
			errs[i] = err
			continue
		}
		if p.space != nil && c.addsData() {
			if err := p.space(); err != nil {
				errs[i] = err
				continue
			}
		}
		req := &request{cmd: c.encode(), done: make(chan error, 1)}
		if len(req.cmd) > p.cfg.MaxBatchBytes {
			errs[i] = fmt.Errorf("%w: %s is %d bytes encoded, more than MaxBatchBytes %d", ErrInvalidCommand, c.Op, len(req.cmd), p.cfg.MaxBatchBytes)
			continue
		}
		reqs = append(reqs, req)
		idx = append(idx, i)
	}
	if together && len(reqs) > 1 {
		reqs[0].group = len(reqs)
	}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		for _, i := range idx {
			errs[i] = ErrClosed
		}
		return errs
	}
	p.queue = append(p.queue, reqs...)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	for k, req := range reqs {
		select {
		case errs[idx[k]] = <-req.done:
		case <-ctx.Done():
			errs[idx[k]] = ctx.Err()
		}
	}
	return errs
}

func (p *proposer) run() {
	defer p.loop.Done()
	for {
		select {
		case p.slots <- struct{}{}:
		case <-p.stop:
			return
		}
		// Let writers that were just answered run and queue again before
		// the entry is cut: it costs nothing when nobody else is runnable
		// and, unlike a timer, never delays a lone writer.
		runtime.Gosched()
		batch := p.take()
		for batch == nil {
			select {
			case <-p.wake:
				batch = p.take()
			case <-p.stop:
				return
			}
		}
		entry := make([]byte, 0, p.entrySize(batch))
		for _, r := range batch {
			entry = appendEntry(entry, r.cmd)
		}
		proposed := time.Now()
		f := p.raft.Apply(entry, p.cfg.ApplyTimeout)
		p.flights.Add(1)
		go p.await(f, batch, proposed)
	}
}

// take removes the next entry's worth of requests from the queue: up to
// MaxBatchCommands requests and MaxBatchBytes bytes, except that a group
// (proposeCmds together) is never split unless it alone exceeds MaxBatchBytes, and
// may exceed MaxBatchCommands when it starts the entry.
func (p *proposer) take() []*request {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return nil
	}
	n, size := 0, 1
	for n < len(p.queue) {
		g := max(p.queue[n].group, 1)
		gsize := p.entrySize(p.queue[n:n+g]) - 1
		if n > 0 && (n+g > p.cfg.MaxBatchCommands || size+gsize > p.cfg.MaxBatchBytes) {
			break
		}
		if n == 0 && g > 1 && size+gsize > p.cfg.MaxBatchBytes {
			// As much of the group as fits; the rest stays a group.
			k := 1
			for size += len(p.queue[0].cmd) + 3; k < g && size+len(p.queue[k].cmd)+3 <= p.cfg.MaxBatchBytes; k++ {
				size += len(p.queue[k].cmd) + 3
			}
			p.queue[k].group = g - k
			n = k
			break
		}
		n += g
		size += gsize
	}
	batch := p.queue[:n:n]
	p.queue = append([]*request(nil), p.queue[n:]...)
	return batch
}

func (p *proposer) entrySize(batch []*request) int {
	size := 1
	for _, r := range batch {
		size += len(r.cmd) + 3
	}
	return size
}

func (p *proposer) await(f raft.ApplyFuture, batch []*request, proposed time.Time) {
	defer p.flights.Done()
	// The slot is released after the results are out, so that the
	// writers just answered can queue again before the next entry is cut.
	defer func() { <-p.slots }()
	err := f.Error()
	if p.cfg.OnCommit != nil {
		p.cfg.OnCommit(time.Since(proposed))
	}
	if err != nil {
		finish(batch, translateRaftError(err))
		return
	}
	switch resp := f.Response().(type) {
	case []error:
		for i, r := range batch {
			if i < len(resp) {
				r.done <- resp[i]
			} else {
				r.done <- fmt.Errorf("%w: entry returned %d results for %d commands", ErrFSMFailed, len(resp), len(batch))
			}
		}
	case error:
		finish(batch, resp)
	default:
		finish(batch, fmt.Errorf("%w: unexpected response %T", ErrFSMFailed, resp))
	}
}

func finish(batch []*request, err error) {
	for _, r := range batch {
		r.done <- err
	}
}

// translateRaftError keeps raft's errors inside the package.
func translateRaftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w (%v)", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	}
	return fmt.Errorf("queue: apply: %v", err)
}

// close fails queued commands with ErrClosed and waits for the entries in
// flight to finish (or ctx).
func (p *proposer) close(ctx context.Context) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return nil
	}
	p.closing = true
	queued := p.queue
	p.queue = nil
	p.mu.Unlock()
	close(p.stop)
	p.loop.Wait()
	finish(queued, ErrClosed)
	done := make(chan struct{})
	go func() { p.flights.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queue: close: wait for entries in flight: %w", ctx.Err())
	}
}
