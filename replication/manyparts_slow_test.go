//go:build slow

package replication_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// TestReplicateTenThousandPieces (slow: 10,000 fsynced blobs, about 2 min
// on a loaded CI machine) replicates an object completed from
// 10,000 parts (10,000 blobs, as a multipart upload of an 80 GB file
// leaves, here of a few bytes each) to versitygw: the remote copy is the
// parts joined, byte for byte.
func TestReplicateTenThousandPieces(t *testing.T) {
	e := newEnv(t)
	var whole bytes.Buffer
	pieces := make([]replication.Piece, 0, 10000)
	for n := 1; n <= 10000; n++ {
		part := []byte(strconv.Itoa(n) + ";")
		b, err := e.store.Put(ctxT(t), bytes.NewReader(part))
		if err != nil {
			t.Fatal(err)
		}
		pieces = append(pieces, replication.Piece{Blob: b.Digest.String(), Size: b.Size})
		whole.Write(part)
	}
	e.journal.add(replication.Job{
		ID: queue.NewVersionID(time.Now()), Op: replication.OpPut, Bucket: "many", Key: "big",
		Size: int64(whole.Len()), Pieces: pieces,
		Meta: replication.ObjectMeta{SHA256: sha256Hex(whole.Bytes()), ModTime: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
	})
	e.start(testConfig(), e.newRemote(e.gw.Endpoint), nil)
	waitFor(t, "journal drained", func() bool { return e.journal.pending() == 0 })
	if got, _ := e.remoteSHA256("many", "big"); got != sha256Hex(whole.Bytes()) {
		t.Fatalf("remote copy of the 10,000-part object: sha256 %s, want %s", got, sha256Hex(whole.Bytes()))
	}
}
