package remotetest

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// LocalCopy is an IPAS gateway over its own store and journal, serving on
// loopback: what `gateway serve` replicates to when no remote is set.
type LocalCopy struct {
	Endpoint  string // http://127.0.0.1:PORT
	Bucket    string
	AccessKey string
	SecretKey string
}

// StartLocalCopy starts a gateway in a temporary directory with one bucket
// and stops it when the test ends.
func StartLocalCopy(t testing.TB, bucket string) *LocalCopy {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, log := t.TempDir(), zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	st := store.New(filepath.Join(dir, "store"), log)
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	qc := queue.DefaultConfig(filepath.Join(dir, "journal"))
	qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	qc.Inline = st
	node := queue.New(qc, log)
	if err := node.Open(ctx); err != nil {
		st.Close(context.Background())
		t.Fatal(err)
	}
	lc := &LocalCopy{Bucket: bucket, AccessKey: "LOCALCOPYKEY", SecretKey: "local-copy-secret"}
	srv := gateway.New(gateway.DefaultConfig(sigv4.StaticCredentials{lc.AccessKey: lc.SecretKey}), node, archive.New(st, node), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lc.Endpoint = "http://" + ln.Addr().String()
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("local copy: serve: %v", err)
		}
		node.Close(context.Background())
		st.Close(context.Background())
	})
	if err := node.CreateBucket(ctx, bucket, time.Now()); err != nil {
		t.Fatal(err)
	}
	return lc
}
