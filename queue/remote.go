package queue

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RemoteIdentity names the remote the archive replicates to. It is
// journaled so that a start-up can tell that the remote changed, and that
// every object must then be checked against the new one.
type RemoteIdentity struct {
	Endpoint, Bucket, Prefix string
	// Since is when this identity was first recorded (set by the journal).
	Since time.Time
}

// IsZero reports whether no remote was recorded.
func (r RemoteIdentity) IsZero() bool { return r.Endpoint == "" && r.Bucket == "" && r.Prefix == "" }

// Same reports whether r and o name the same remote.
func (r RemoteIdentity) Same(o RemoteIdentity) bool {
	return r.Endpoint == o.Endpoint && r.Bucket == o.Bucket && r.Prefix == o.Prefix
}

func (r RemoteIdentity) String() string {
	s := r.Endpoint + " bucket " + r.Bucket
	if r.Prefix != "" {
		s += " prefix " + r.Prefix
	}
	return s
}

const (
	remoteEndpoint = 1
	remoteBucket   = 2
	remotePrefix   = 3
	remoteSince    = 4
)

func encodeRemote(r *RemoteIdentity) []byte {
	var e encoder
	e.str(remoteEndpoint, r.Endpoint)
	e.str(remoteBucket, r.Bucket)
	e.str(remotePrefix, r.Prefix)
	e.time(remoteSince, r.Since)
	return e.b
}

func decodeRemote(b []byte, r *RemoteIdentity) error {
	d := decoder{b: b}
	for d.next() {
		switch d.tag {
		case remoteEndpoint:
			r.Endpoint = d.str()
		case remoteBucket:
			r.Bucket = d.str()
		case remotePrefix:
			r.Prefix = d.str()
		case remoteSince:
			r.Since = d.time()
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode remote: %w", d.err)
	}
	return nil
}

// remoteSet records the remote; setting the recorded one again keeps its
// Since.
func (a *applier) remoteSet(c *command) error {
	if v := a.meta.Get(keyRemote); v != nil {
		var cur RemoteIdentity
		if err := decodeRemote(v, &cur); err != nil {
			return err
		}
		if cur.Same(c.Remote) {
			return nil
		}
	}
	r := c.Remote
	r.Since = c.Time
	return a.meta.Put(keyRemote, encodeRemote(&r))
}

// SetRemote records the remote's identity (r.Since is ignored).
func (n *Node) SetRemote(ctx context.Context, r RemoteIdentity) error {
	r.Since = time.Time{}
	return n.propose(ctx, &command{Op: opRemoteSet, Time: time.Now(), Remote: r})
}

// Remote returns the remote identity last recorded; zero if none was.
func (n *Node) Remote() (RemoteIdentity, error) {
	var r RemoteIdentity
	err := n.fsm.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bktMeta).Get(keyRemote); v != nil {
			return decodeRemote(v, &r)
		}
		return nil
	})
	if err != nil {
		return RemoteIdentity{}, fmt.Errorf("queue: remote: %w", err)
	}
	return r, nil
}
