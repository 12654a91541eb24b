package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// TestRemoteOnly: an object journaled without its bytes is read and pinned
// as ErrRemoteOnly, the collector neither misses nor keeps anything for it,
// and a restored put of the same version with its blob makes it readable.
func TestRemoteOnly(t *testing.T) {
	ctx := context.Background()
	a := openArchive(t, t.TempDir())
	defer a.close(t)
	content := []byte("on the remote only")
	blob, err := a.Put(ctx, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	full := NewObject("b", "k", blob, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	full.Replica = queue.Replica{ETag: full.ETag, Size: full.Size}
	ro := RemoteOnly(full, nil)
	if Local(ro) || !Local(full) || len(Pieces(ro)) != 0 {
		t.Fatalf("RemoteOnly: %+v", ro)
	}
	if ok, err := a.node.PutRestoredObject(ctx, ro); err != nil || !ok {
		t.Fatalf("journal the remote-only object: %v %v", ok, err)
	}
	a.Unpin(blob.Digest)
	mark := func(ctx context.Context, mark func(store.Digest)) error {
		return a.node.MarkReferenced(ctx, func(b string) {
			if d, err := ParseDigest(b); err == nil {
				mark(d)
			}
		})
	}
	st, err := a.store.Collect(ctx, mark)
	if err != nil || st.BlobsDeleted != 1 {
		t.Fatalf("collect: %+v %v; want the unreferenced blob deleted", st, err)
	}

	o, err := a.node.Object("b", "k")
	if err != nil || !o.RemoteOnly || o.Size != int64(len(content)) || o.ETag != full.ETag {
		t.Fatalf("index entry %+v %v", o, err)
	}
	if _, err := io.ReadAll(a.Open(ctx, o, 0, o.Size)); !errors.Is(err, ErrRemoteOnly) {
		t.Fatalf("read a remote-only object: %v, want ErrRemoteOnly", err)
	}
	if _, err := a.PinObject(o); !errors.Is(err, ErrRemoteOnly) {
		t.Fatalf("pin a remote-only object: %v, want ErrRemoteOnly", err)
	}

	// Its bytes come back (a restore without --metadata-only).
	blob, err = a.Put(ctx, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.node.PutRestoredObject(ctx, full); err != nil || !ok {
		t.Fatalf("journal the bytes: %v %v", ok, err)
	}
	a.Unpin(blob.Digest)
	if st, err := a.store.Collect(ctx, mark); err != nil || st.BlobsDeleted != 0 {
		t.Fatalf("collect: %+v %v; want nothing deleted", st, err)
	}
	if got := a.readObject(t, "k", 0, int64(len(content))); !bytes.Equal(got, content) {
		t.Fatalf("read back %q", got)
	}
}
