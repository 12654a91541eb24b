package restore

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/store"
)

// TestRestore_MetadataOnly: a metadata-only restore downloads nothing and
// journals every object remote-only (an empty one whole, since it needs no
// download) and says so in the summary; a later restore with --merge counts
// those objects as not restored, fetches exactly their bytes and makes them
// local; a third run finds nothing to do.
func TestRestore_MetadataOnly(t *testing.T) {
	rem := newFakeRemote()
	old := time.Now().UTC().Add(-time.Hour)
	data := map[string][]byte{
		"docs/small": []byte("a tax return"),
		"docs/large": bytes.Repeat([]byte("0123456789abcdef"), 3<<16+5), // 3 MiB+: in ranges
		"docs/empty": {},
	}
	for name, b := range data {
		rem.put(name, b, old, old)
	}
	a := openTestArchive(t)
	ctx := context.Background()

	rec := &recorder{}
	res, err := a.restorer(rem, rec, func(o *Options) { o.MetadataOnly, o.NoSnapshot = true, true }).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Restored != 3 || res.RemoteOnly != 2 || res.Fetched != 0 {
		t.Fatalf("metadata-only restore: %+v; want 3 restored, 2 remote-only, nothing fetched", res)
	}
	for name, b := range data {
		bucket, key, _ := strings.Cut(name, "/")
		o, err := a.node.Object(bucket, key)
		if err != nil || o.Size != int64(len(b)) || o.SHA256 == "" || !o.Replicated() || archive.Local(o) != (len(b) == 0) {
			t.Errorf("%s after a metadata-only restore: %+v, %v", name, o, err)
		}
		if got := rec.out[name]; got.Status != Restored || got.RemoteOnly != (len(b) > 0) {
			t.Errorf("%s: outcome %+v", name, got)
		}
	}
	if jobs, err := a.node.Jobs(0, 0); err != nil || len(jobs) != 0 {
		t.Errorf("a metadata-only restore queued uploads: %v %v", jobs, err)
	}
	var sum bytes.Buffer
	res.WriteSummary(&sum)
	for _, want := range []string{"2 restored object(s)", "on the remote only", "reads them through", "gateway restore --merge", "store.cache_on_read"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("the summary does not say %q:\n%s", want, sum.String())
		}
	}

	rec = &recorder{}
	res, err = a.restorer(rem, rec, func(o *Options) { o.Merge, o.NoSnapshot = true, true }).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantFetched := int64(len(data["docs/small"]) + len(data["docs/large"]))
	if res.Restored != 2 || res.Skipped != 1 || res.RemoteOnly != 0 || res.Fetched != wantFetched {
		t.Fatalf("restore --merge after a metadata-only one: %+v; want 2 restored (%d bytes fetched), the empty one skipped", res, wantFetched)
	}
	mark := func(ctx context.Context, mark func(store.Digest)) error {
		return a.node.MarkReferenced(ctx, func(b string) {
			if d, err := store.ParseDigest(b); err == nil {
				mark(d)
			}
		})
	}
	if st, err := a.store.Collect(ctx, mark); err != nil || st.BlobsDeleted != 0 {
		t.Fatalf("collect after the restores: %+v %v; want nothing deleted", st, err)
	}
	for name, b := range data {
		bucket, key, _ := strings.Cut(name, "/")
		o, err := a.node.Object(bucket, key)
		if err != nil || !archive.Local(o) || !o.Replicated() {
			t.Fatalf("%s after --merge: %+v, %v", name, o, err)
		}
		got, err := io.ReadAll(archive.New(a.store, a.node).Open(ctx, o, 0, o.Size))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s reads back %d bytes (%v), want %d", name, len(got), err, len(b))
		}
	}
	res, err = a.restorer(rem, &recorder{}, func(o *Options) { o.Merge, o.NoSnapshot = true, true }).Run(ctx)
	if err != nil || res.Restored != 0 || res.Fetched != 0 {
		t.Fatalf("a third restore: %+v %v; want nothing fetched", res, err)
	}
}
