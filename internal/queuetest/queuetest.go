// Package queuetest opens a real journal for the tests of packages above
// the queue (internal/testutil cannot: the queue's own tests import it).
package queuetest

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
)

// Open opens a single-node journal in a temporary directory, with raft's
// timeouts shortened so that it leads at once, and closes it at the end of
// the test.
func Open(t testing.TB) *queue.Node {
	t.Helper()
	c := queue.DefaultConfig(t.TempDir())
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	n := queue.New(c, zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}
