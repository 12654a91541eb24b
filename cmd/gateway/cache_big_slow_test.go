//go:build slow

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
)

// TestServe_RangeOfEvicted1GiB: a 1 GiB object replicated to a real
// versitygw behind toxiproxy and evicted; Range GETs in its middle and at
// its end return the right bytes and fetch from the remote (counted by the
// proxy) no more than the one block that holds them.
func TestServe_RangeOfEvicted1GiB(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, proxy, p, c, _ := servePhotos(t, ctx, "store: {cache_on_read: never}\n")
	body := testutil.Content(7, 1<<30)
	if err := putBytes(ctx, c, "photos", "big.mkv", body); err != nil {
		t.Fatal(err)
	}
	s.waitReplicated(t, p)
	if out := cliOK(t, s.env, "evict", "--endpoint", p.endpoint, "photos/big.mkv"); !strings.Contains(out, "1 evicted") {
		t.Fatalf("gateway evict: %s", out)
	}
	checkRangeFetch(t, ctx, c, proxy, "photos", "big.mkv", body, 700_000_000, 4096)
	checkRangeFetch(t, ctx, c, proxy, "photos", "big.mkv", body, 1<<30-100, 100)
}
