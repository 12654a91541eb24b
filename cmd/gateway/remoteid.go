package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication/remote"
)

// remoteChange compares the remote the daemon starts with to the one last
// recorded in the journal. A changed remote means that nothing in the index
// can be assumed to be on it: a reconcile must check every object (Changed),
// and records the new remote once it has (Settle). Until then the journal
// keeps the old identity, so a crash before the reconcile ends makes the
// next start see the change again instead of forgetting it.
type remoteChange struct {
	node     *queue.Node
	previous queue.RemoteIdentity
	current  queue.RemoteIdentity
	changed  bool
}

// remoteIdentity names a remote for the journal. The local copy's endpoint is
// a new loopback port at every start, so it is named by its directory.
func remoteIdentity(rc remote.Config, local bool) queue.RemoteIdentity {
	id := queue.RemoteIdentity{Endpoint: rc.Endpoint, Bucket: rc.Bucket, Prefix: rc.Prefix}
	switch {
	case local:
		id.Endpoint = "local copy (DATA_DIR/" + localRemoteDir + ")"
	case id.Endpoint == "":
		id.Endpoint = "AWS S3 (" + rc.Region + ")"
	}
	return id
}

// checkRemote compares current with the journal's record. An unchanged remote
// is recorded at once (a first start records it); a changed one is logged at
// WARN and left for Settle. A journal without a record but with objects
// (written before the remote was recorded) counts as changed: where those
// objects went is unknown.
func checkRemote(ctx context.Context, node *queue.Node, current queue.RemoteIdentity, log zerolog.Logger) (*remoteChange, error) {
	prev, err := node.Remote()
	if err != nil {
		return nil, err
	}
	c := &remoteChange{node: node, previous: prev, current: current}
	switch {
	case !prev.IsZero():
		c.changed = !prev.Same(current)
	default:
		st, err := node.Stats()
		if err != nil {
			return nil, err
		}
		c.changed = st.Objects > 0
	}
	if !c.changed {
		return c, c.Settle(ctx)
	}
	from := prev.String()
	if prev.IsZero() {
		from = "an unrecorded remote"
	}
	log.Warn().Str("previous", from).Str("remote", current.String()).
		Msgf("remote changed from %s to %s: every object will be checked against the new remote", from, current)
	return c, nil
}

// String says what changed, for the log and the reconcile's report.
func (c *remoteChange) String() string {
	if c.previous.IsZero() {
		return "no remote recorded in the journal, which has objects: checking that every object is on " + c.current.String()
	}
	return "the remote changed from " + c.previous.String() + " to " + c.current.String()
}

// Changed reports whether the remote differs from the one recorded in the
// journal (the reconcile's cue to check every object).
func (c *remoteChange) Changed() bool { return c.changed }

// Settle records the current remote in the journal: the reconcile calls it
// once every object has been checked against the new remote.
func (c *remoteChange) Settle(ctx context.Context) error {
	if err := c.node.SetRemote(ctx, c.current); err != nil {
		return fmt.Errorf("record remote %s: %w", c.current, err)
	}
	c.changed = false
	return nil
}
