package remote_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/remotetest"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
)

func newClient(t *testing.T, endpoint, bucket, ak, sk string, pageSize int) *remote.Client {
	t.Helper()
	c := remote.DefaultConfig()
	c.Endpoint, c.Bucket, c.Prefix, c.PathStyle = endpoint, bucket, "pi1", true
	c.AccessKey, c.SecretKey = ak, sk
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	cl, err := remote.New(ctx, c, log, remote.WithListPageSize(pageSize), remote.WithResponseTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestContract_VersityGW runs the Remote contract against an independent S3 server.
func TestContract_VersityGW(t *testing.T) {
	remotetest.Run(t, func(t *testing.T, pageSize int) replication.Remote {
		gw := testutil.StartVersityGW(t, "replica")
		return newClient(t, gw.Endpoint, "replica", gw.AccessKey, gw.SecretKey, pageSize)
	})
}

// TestContract_LocalCopy runs it against the built-in local copy: an IPAS
// gateway on loopback.
func TestContract_LocalCopy(t *testing.T) {
	remotetest.Run(t, func(t *testing.T, pageSize int) replication.Remote {
		lc := remotetest.StartLocalCopy(t, "ipas-replica")
		return newClient(t, lc.Endpoint, lc.Bucket, lc.AccessKey, lc.SecretKey, pageSize)
	})
}
