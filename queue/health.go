package queue

import (
	"fmt"

	"github.com/hashicorp/raft"
)

// Healthy reports whether the journal can take writes on this node's side:
// it is open, raft is running and the state machine has not stopped on a
// failed transaction (ErrFSMFailed, which only a restart clears; a pause
// for lack of space, which freeing space clears, is healthy). It does
// not ask for leadership (IsLeader does): a healthy follower is healthy.
// It reads only in-memory state, so it is cheap enough for every health
// probe. Call it once Open has returned.
func (n *Node) Healthy() error {
	n.mu.Lock()
	open := n.opened && !n.closed
	n.mu.Unlock()
	if !open || n.raft == nil || n.fsm == nil || n.raft.State() == raft.Shutdown {
		return ErrClosed
	}
	if err := n.fsm.failure(); err != nil && !n.fsm.pausedNoSpace() {
		return fmt.Errorf("queue: health: %w", err)
	}
	return nil
}
