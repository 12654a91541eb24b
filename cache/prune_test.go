package cache

import (
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// accessRecords lists the keys of the access file.
func (f *fixture) accessRecords() []string {
	f.t.Helper()
	var keys []string
	err := f.access.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktLastRead).ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return keys
}

// TestPruneAccessFile: the access file drops the last reads of keys
// deleted, of buckets deleted and of keys written again since their read,
// a bounded batch at a time, and keeps those of the current versions and
// of a key read again after the batch was checked. The passes drop them by
// themselves.
func TestPruneAccessFile(t *testing.T) {
	f := newFixture(t, DefaultConfig(), 1<<30)
	for i := range 6 {
		f.replicate(f.mustPut("b", fmt.Sprint("k", i), 10))
		f.read(fmt.Sprint("k", i))
	}
	f.access.Touch("gone-bucket", "k", time.Now())
	if err := f.access.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k1", "k3"} {
		if err := f.node.DeleteObject(f.ctx, "b", key, ""); err != nil {
			t.Fatal(err)
		}
	}
	f.mustPut("b", "k4", 20) // a new version, written after the read
	record := func(key string) string { return "b\x00" + key }

	// Batches of 3 records, in key order: k0 to k2, k3 to k5, gone-bucket.
	for i, want := range []int{1, 2, 1, 0} { // k1; k3 and k4; gone-bucket; from the start again, nothing
		if n, err := f.access.Prune(3, f.cache.currentVersion); err != nil || n != want {
			t.Fatalf("batch %d dropped %d records, %v; want %d", i+1, n, err, want)
		}
	}
	if got, want := f.accessRecords(), []string{record("k0"), record("k2"), record("k5")}; !slices.Equal(got, want) {
		t.Errorf("records left %q, want %q", got, want)
	}

	// The passes prune by themselves.
	f.mustPut("b", "k0", 30)
	if _, err := f.cache.RunPass(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := f.accessRecords(), []string{record("k2"), record("k5")}; !slices.Equal(got, want) {
		t.Errorf("records left after a pass %q, want %q", got, want)
	}
}

// TestPruneKeepsARecordWrittenAgain: a record flushed again between the
// check and the drop (its key read again) is kept.
func TestPruneKeepsARecordWrittenAgain(t *testing.T) {
	f := newFixture(t, DefaultConfig(), 1<<30)
	f.mustPut("b", "k", 10)
	f.access.Touch("b", "k", time.Now().Add(-time.Hour)) // before the version
	if err := f.access.Flush(); err != nil {
		t.Fatal(err)
	}
	stale, err := f.access.staleRecords(10, f.cache.currentVersion)
	if err != nil || len(stale) != 1 {
		t.Fatalf("stale records %q, %v; want the read older than the version", stale, err)
	}
	f.read("k") // read again and flushed between the check and the drop
	if err := f.access.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, err := f.access.drop(stale); err != nil || n != 0 {
		t.Fatalf("dropped %d, %v; want the record read again kept", n, err)
	}
	if got := f.accessRecords(); len(got) != 1 {
		t.Fatalf("records %q", got)
	}
}
