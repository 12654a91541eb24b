package queue

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestPutRestoredVersions: a restore journals a key's versions in whatever
// order their downloads finish; they are listed newest first by their
// times, with the delete marker that was the latest on top, recorded as
// replicated, and a version put after the restore is the newest. Filing a
// version twice changes nothing; bad input is refused with nothing changed.
func TestPutRestoredVersions(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	setVersioning(t, n, "b", VersioningEnabled)
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	version := func(content string, hour int) Object {
		o := testObject("b", "k", content)
		o.ModTime, o.Versioned = base.Add(time.Duration(hour)*time.Hour), true
		o.VersionID = NewVersionID(o.ModTime)
		o.Replica = Replica{ETag: o.ETag, Size: o.Size, VersionID: "remote-" + content}
		return o
	}
	v1, v2, v3 := version("one", 1), version("two", 2), version("three", 3)
	marker := Object{Bucket: "b", Key: "k", VersionID: NewVersionID(base.Add(4 * time.Hour)), ModTime: base.Add(4 * time.Hour),
		DeleteMarker: true, Versioned: true}
	// Journaled out of order, v2 twice.
	for i, err := range n.PutRestoredVersions(ctxT(t), []Object{v2, marker, v1, v3, v2}) {
		if err != nil {
			t.Fatalf("restore version %d: %v", i, err)
		}
	}
	want := []string{"k@" + marker.VersionID + "(dm)*", "k@" + v3.VersionID, "k@" + v2.VersionID, "k@" + v1.VersionID}
	if got := versionsOf(t, n, "b", ""); !slices.Equal(got, want) {
		t.Fatalf("versions after the restore:\n got %v\nwant %v", got, want)
	}
	if _, err := n.Object("b", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("the key is visible under its delete marker: %v", err)
	}
	got, err := n.ObjectVersion("b", "k", v2.VersionID)
	if err != nil || got.SHA256 != v2.SHA256 || !got.Replicated() || got.Replica.VersionID != "remote-two" {
		t.Errorf("restored v2 = %+v, %v", got, err)
	}
	if st := stats(t, n); st.Versions != 4 || st.Jobs != 0 {
		t.Errorf("stats %+v: want 4 versions and no job (nothing to upload)", st)
	}
	// A version put after the restore is the newest; the marker becomes
	// noncurrent under it.
	v5 := mustPut(t, n, testObject("b", "k", "five"))
	if got := versionsOf(t, n, "b", ""); len(got) != 5 || got[0] != "k@"+v5.VersionID+"*" {
		t.Errorf("after a put: %v", got)
	}

	bad := marker
	bad.VersionID, bad.Size = NewVersionID(base), 3
	if err := n.PutRestoredVersions(ctxT(t), []Object{bad})[0]; !errors.Is(err, ErrInvalidCommand) {
		t.Errorf("a delete marker with bytes: %v, want ErrInvalidCommand", err)
	}
	if got := versionsOf(t, n, "b", ""); len(got) != 5 {
		t.Errorf("a refused version changed the list: %v", got)
	}
}
