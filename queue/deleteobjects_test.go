package queue

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestDeleteObjectsOneEntry: S3's DeleteObjects of 1,000 keys is one raft
// entry (one fsync), more than MaxBatchCommands; keys that together exceed
// MaxBatchBytes are cut into entries that each fit, and every key is deleted
// either way.
func TestDeleteObjectsOneEntry(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keyLen     int
		maxEntries uint64
	}{
		{"short keys", 10, 1},
		{"1 KiB keys", 1000, 3}, // 1,000 x ~1.1 KiB > MaxBatchBytes (1 MiB)
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := openNode(t, testConfig(t.TempDir()))
			mustBucket(t, n, "b")
			objs := make([]Object, 1000)
			dels := make([]ObjectDeletion, len(objs))
			for i := range objs {
				key := fmt.Sprintf("%0*d", tc.keyLen, i)
				objs[i] = testObject("b", key, fmt.Sprint(i))
				dels[i] = ObjectDeletion{Key: key}
			}
			for i, err := range n.PutObjects(ctxT(t), objs) {
				if err != nil {
					t.Fatalf("put %d: %v", i, err)
				}
			}
			before := stats(t, n)
			if before.Objects != 1000 {
				t.Fatalf("before: %+v", before)
			}
			dels = append(dels, ObjectDeletion{Key: "never-there"}, ObjectDeletion{Key: strings.Repeat("k", maxKeyLen+1)})
			errs := n.DeleteObjects(ctxT(t), "b", dels)
			for i, err := range errs {
				if i == len(errs)-1 {
					if !errors.Is(err, ErrInvalidCommand) {
						t.Fatalf("a key too long: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("delete %s: %v", dels[i].Key, err)
				}
			}
			after := stats(t, n)
			if after.Objects != 0 {
				t.Fatalf("%d objects left after DeleteObjects", after.Objects)
			}
			if entries := after.AppliedIndex - before.AppliedIndex; entries < 1 || entries > tc.maxEntries {
				t.Fatalf("1,001 deletes took %d raft entries, want 1..%d", entries, tc.maxEntries)
			}
			for _, o := range objs[:3] {
				if _, err := n.Object("b", o.Key); !errors.Is(err, ErrNoSuchKey) {
					t.Fatalf("object %s after delete: %v", o.Key[:10], err)
				}
			}
		})
	}
}
