//go:build slow

package replication_test

import (
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/replication"
)

// blackHole is the outage: nothing gets through for this long.
const blackHole = 30 * time.Second

// TestBlackHole30s: the link swallows everything for 30 s in the middle of
// a multipart upload journaled in raft. The upload completes with no
// manual action, no part journaled before or after the outage is sent
// twice: the only bytes beyond the object's size are those of the parts
// the outage interrupted (and the attempts that went into the hole).
func TestBlackHole30s(t *testing.T) {
	q := newQueueEnv(t, "videos")
	px := testutil.StartProxy(t, q.gw.Addr)
	size := 40<<20 + 4321
	data := randomBytes(size, 30)
	id := q.put("videos", "holiday.mkv", data)
	cfg := testConfig()
	cfg.Parts = 2
	q.run(cfg, px.Endpoint(), replication.NewBandwidth(8<<20, nil))

	waitFor(t, "two parts journaled", func() bool { return q.partsDone(id) >= 2*cfg.PartSize })
	px.AddToxic(t, "blackhole", "timeout", "upstream", map[string]any{"timeout": 0})
	sentAtStart, doneAtStart := px.UpstreamBytes(), q.partsDone(id)
	time.Sleep(blackHole)
	px.RemoveToxic(t, "blackhole")
	sentAtEnd, doneAtEnd := px.UpstreamBytes(), q.partsDone(id)
	if doneAtEnd >= int64(size) {
		t.Fatal("the upload finished during the black hole: the test proves nothing")
	}
	waitFor(t, "upload completed after the black hole", func() bool { return q.pending() == 0 })
	total := px.UpstreamBytes()
	sentAfter := total - sentAtEnd
	inHole := sentAtEnd - sentAtStart
	t.Logf("object %s; journaled %s when the hole opened, %s when it closed; %s went into the hole; sent %s after it (%s remained); %s in all",
		mib(float64(size)), mib(float64(doneAtStart)), mib(float64(doneAtEnd)), mib(float64(inHole)),
		mib(float64(sentAfter)), mib(float64(int64(size)-doneAtEnd)), mib(float64(total)))

	inFlight := int64(cfg.Parts) * cfg.PartSize
	if bound := int64(size) - doneAtEnd + inFlight + requestOverhead; sentAfter > bound {
		t.Errorf("sent %d bytes after the black hole, bound %d: journaled parts were sent again", sentAfter, bound)
	}
	if bound := int64(size) + inHole + inFlight + requestOverhead; total > bound {
		t.Errorf("sent %d bytes in all, bound %d (object + bytes into the hole + parts in flight)", total, bound)
	}
	if got := firstOf(q.remoteSHA256("videos", "holiday.mkv")); got != sha256Hex(data) {
		t.Errorf("remote sha256 %s, want %s", got, sha256Hex(data))
	}
}
