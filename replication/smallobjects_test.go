package replication_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestSmallObjectsOneRequestEach: a backlog of small objects goes up as one
// PutObject each, no HEAD or GET after it (the PUT's Content-MD5 and ETag
// prove the content), many at a time over reused connections: no more
// connections are opened than requests can be in flight at once (the
// objects, and the orphan sweep's listing of uploads). Every
// object arrives byte-identical.
func TestSmallObjectsOneRequestEach(t *testing.T) {
	e := newEnv(t)
	rec := startRecorder(t, e.gw.Endpoint)
	n := smallObjects
	sums := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("img%04d.jpg", i)
		data := randomBytes(1<<10+i*331%(63<<10), uint64(i+900))
		sums[key] = sha256Hex(data)
		e.put("photos", key, data)
	}
	cfg := testConfig()
	r, _ := e.start(cfg, e.newRemote(rec.URL), nil)
	busiest := 0
	waitFor(t, "backlog drained", func() bool {
		busiest = max(busiest, len(r.Status().Active))
		return e.journal.pending() == 0
	})

	puts, reads := 0, 0
	for _, q := range rec.requests() {
		switch {
		case q.Method == http.MethodPut && strings.Contains(q.Query, "x-id=PutObject"):
			puts++
			if q.Status != http.StatusOK {
				t.Errorf("PUT %s: status %d", q.Path, q.Status)
			}
		case (q.Method == http.MethodHead || q.Method == http.MethodGet) && strings.HasPrefix(q.Path, "/"+remoteBucket+"/pi1/photos/"):
			reads++
			t.Errorf("%s %s?%s: replication read back an object it had just put", q.Method, q.Path, q.Query)
		}
	}
	if puts != n || reads != 0 {
		t.Errorf("%d PutObject and %d HEAD/GET requests for %d objects; want %d and 0", puts, reads, n, n)
	}
	if c := rec.conns.Load(); c > int64(cfg.Requests()) {
		t.Errorf("%d connections opened for %d objects; want at most %d (requests in flight): connections are not reused", c, n, cfg.Requests())
	}
	if busiest <= cfg.Objects {
		t.Errorf("at most %d objects were in flight at once; the small lane allows %d besides the large lane's %d",
			busiest, cfg.SmallObjects, cfg.Objects)
	}
	t.Logf("%d objects: %d PUTs over %d connections, up to %d in flight at once", n, puts, rec.conns.Load(), busiest)
	for key, sum := range sums {
		if got := firstOf(e.remoteSHA256("photos", key)); got != sum {
			t.Errorf("%s: remote sha256 %s, want %s", key, got, sum)
		}
	}
}
