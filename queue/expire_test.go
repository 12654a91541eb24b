package queue

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestAbortUploadsBefore aborts the uploads created before a cutoff, over
// more uploads than one batch, and keeps the newer ones: the old ones and
// their parts are gone (their blobs no longer marked), the new ones intact.
func TestAbortUploadsBefore(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	old, recent := partTime, partTime.Add(48*time.Hour)
	var oldIDs, newIDs []string
	for i := range 2*expireBatch + 10 {
		id := fmt.Sprintf("up-%04d", i)
		created := old
		if i%3 == 0 {
			created, newIDs = recent, append(newIDs, id)
		} else {
			oldIDs = append(oldIDs, id)
		}
		if err := n.CreateUpload(ctxT(t), Upload{ID: id, Bucket: "b", Key: "k", Created: created}); err != nil {
			t.Fatal(err)
		}
	}
	mustPart(t, n, oldIDs[0], testPart(1, "old part"))
	mustPart(t, n, newIDs[0], testPart(1, "new part"))

	aborted, err := n.AbortUploadsBefore(ctxT(t), recent.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(aborted) != len(oldIDs) {
		t.Fatalf("aborted %d uploads, want the %d old ones", len(aborted), len(oldIDs))
	}
	for _, id := range oldIDs {
		if _, err := n.Upload(id); !errors.Is(err, ErrNoSuchUpload) {
			t.Fatalf("old upload %s: %v, want ErrNoSuchUpload", id, err)
		}
	}
	for _, id := range newIDs {
		mustGetUpload(t, n, id)
	}
	marked := map[string]bool{}
	if err := n.MarkReferenced(ctxT(t), func(b string) { marked[b] = true }); err != nil {
		t.Fatal(err)
	}
	if marked[blobOf("old part")] || !marked[blobOf("new part")] {
		t.Fatalf("blobs marked after the abort: old part %v (want false), new part %v (want true)",
			marked[blobOf("old part")], marked[blobOf("new part")])
	}
	if again, err := n.AbortUploadsBefore(ctxT(t), recent.Add(-time.Hour)); err != nil || len(again) != 0 {
		t.Fatalf("a second pass aborted %d uploads, %v", len(again), err)
	}
}
