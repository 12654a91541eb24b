package queue

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func setVersioning(t *testing.T, n *Node, bucket, state string) {
	t.Helper()
	if err := n.SetBucketSetting(ctxT(t), bucket, SettingVersioning, state); err != nil {
		t.Fatalf("versioning %s: %v", state, err)
	}
}

// versionsOf lists every version of bucket, one short page at a time, so
// that the markers are exercised too: "key@id*" per entry, * when latest,
// "key@id(dm)" for a delete marker.
func versionsOf(t *testing.T, n *Node, bucket, prefix string) []string {
	t.Helper()
	var out []string
	km, vm := "", ""
	for range 1000 {
		page, more, err := n.ListVersions(bucket, prefix, km, vm, 2)
		if err != nil {
			t.Fatalf("list versions: %v", err)
		}
		for _, v := range page {
			s := v.Key + "@" + v.S3VersionID()
			if v.DeleteMarker {
				s += "(dm)"
			}
			if v.Latest {
				s += "*"
			}
			out = append(out, s)
		}
		if !more {
			return out
		}
		last := page[len(page)-1]
		km, vm = last.Key, last.S3VersionID()
	}
	t.Fatal("list versions does not end")
	return nil
}

func TestVersioningEnabled(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	setVersioning(t, n, "b", VersioningEnabled)

	v1 := mustPut(t, n, testObject("b", "k", "one"))
	v2 := mustPut(t, n, testObject("b", "k", "two"))
	mustPut(t, n, testObject("b", "a", "other"))
	if o, err := n.Object("b", "k"); err != nil || o.VersionID != v2.VersionID || !o.Versioned {
		t.Fatalf("current = %+v, %v; want v2", o, err)
	}
	got, err := n.ObjectVersion("b", "k", v1.VersionID)
	if err != nil || got.Blob != v1.Blob || got.Latest {
		t.Fatalf("version v1 = %+v, %v", got, err)
	}
	if !referenced(t, n, v1.Blob) {
		t.Fatal("the collector would delete the noncurrent version's blob")
	}

	del := NewVersionID(time.Now())
	if err := n.DeleteObject(ctxT(t), "b", "k", del); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Object("b", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("GET after delete: %v, want ErrNoSuchKey", err)
	}
	if dm, err := n.LatestVersion("b", "k"); err != nil || !dm.DeleteMarker || dm.VersionID != del {
		t.Fatalf("latest = %+v, %v; want the delete marker", dm, err)
	}
	want := []string{"", "k@" + del + "(dm)*", "k@" + v2.VersionID, "k@" + v1.VersionID}
	want[0] = "a@" + mustObject(t, n, "b", "a").VersionID + "*"
	if got := versionsOf(t, n, "b", ""); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("versions:\n got %v\nwant %v", got, want)
	}
	s := stats(t, n)
	if s.Objects != 1 || s.Versions != 3 || s.VersionBytes != 6 {
		t.Fatalf("stats = %+v, want 1 object, 3 versions of 6 bytes", s)
	}

	// Removing the delete marker brings v2 back; removing v2 then v1.
	if err := n.DeleteObjectVersion(ctxT(t), "b", "k", del); err != nil {
		t.Fatal(err)
	}
	if o, err := n.Object("b", "k"); err != nil || o.VersionID != v2.VersionID {
		t.Fatalf("current after removing the marker = %+v, %v; want v2", o, err)
	}
	if err := n.DeleteObjectVersion(ctxT(t), "b", "k", v2.VersionID); err != nil {
		t.Fatal(err)
	}
	if o, err := n.Object("b", "k"); err != nil || o.VersionID != v1.VersionID {
		t.Fatalf("current after removing v2 = %+v, %v; want v1", o, err)
	}
	if err := n.DeleteObjectVersion(ctxT(t), "b", "k", v2.VersionID); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("removing v2 twice: %v, want ErrNoSuchVersion", err)
	}
	if err := n.DeleteObjectVersion(ctxT(t), "b", "k", v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := versionsOf(t, n, "b", "k"); len(got) != 0 {
		t.Fatalf("versions of k after removing all: %v", got)
	}
	if err := n.DeleteObjectVersion(ctxT(t), "b", "a", mustObject(t, n, "b", "a").VersionID); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteBucket(ctxT(t), "b"); err != nil {
		t.Fatalf("delete the emptied bucket: %v", err)
	}
	if s := stats(t, n); s.Objects != 0 || s.Versions != 0 || s.VersionBytes != 0 || s.Bytes != 0 {
		t.Fatalf("stats = %+v, want all zero", s)
	}
}

func mustObject(t *testing.T, n *Node, bucket, key string) Object {
	t.Helper()
	o, err := n.Object(bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestVersioningSuspendedNullVersion(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	null1 := mustPut(t, n, testObject("b", "k", "put while unversioned"))
	if o := mustObject(t, n, "b", "k"); o.S3VersionID() != NullVersionID {
		t.Fatalf("an unversioned put is %q, want the null version", o.S3VersionID())
	}
	setVersioning(t, n, "b", VersioningEnabled)
	v1 := mustPut(t, n, testObject("b", "k", "versioned"))
	setVersioning(t, n, "b", VersioningSuspended)
	null2 := mustPut(t, n, testObject("b", "k", "suspended"))
	// The suspended put replaced the old null version and kept v1.
	want := []string{"k@null*", "k@" + v1.VersionID}
	if got := versionsOf(t, n, "b", ""); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("versions:\n got %v\nwant %v", got, want)
	}
	if o, err := n.ObjectVersion("b", "k", NullVersionID); err != nil || o.Blob != null2.Blob {
		t.Fatalf("null version = %+v, %v; want the suspended put", o, err)
	}
	if err := n.JobDone(ctxT(t), null1.VersionID); err != nil { // its upload would hold it
		t.Fatal(err)
	}
	if referenced(t, n, null1.Blob) {
		t.Fatal("the replaced null version is still referenced")
	}
	// A suspended DELETE replaces the null version with a null marker.
	if err := n.DeleteObject(ctxT(t), "b", "k", ""); err != nil {
		t.Fatal(err)
	}
	want = []string{"k@null(dm)*", "k@" + v1.VersionID}
	if got := versionsOf(t, n, "b", ""); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("versions:\n got %v\nwant %v", got, want)
	}
	if err := n.DeleteObjectVersion(ctxT(t), "b", "k", NullVersionID); err != nil {
		t.Fatal(err)
	}
	if o := mustObject(t, n, "b", "k"); o.VersionID != v1.VersionID {
		t.Fatalf("current = %s, want v1 back", o.VersionID)
	}
}

// TestVersionsConcurrentAndRestart: concurrent writers to one key never
// lose a version, and every version and blob reference survives a restart.
func TestVersionsConcurrentAndRestart(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, testConfig(dir))
	mustBucket(t, n, "b")
	setVersioning(t, n, "b", VersioningEnabled)
	const writers = 16
	var wg sync.WaitGroup
	objs := make([]Object, writers)
	for i := range writers {
		objs[i] = testObject("b", "same", fmt.Sprintf("content %d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.PutObject(ctxT(t), objs[i]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	check := func(n *Node) {
		got := versionsOf(t, n, "b", "")
		if len(got) != writers || !strings.HasSuffix(got[0], "*") {
			t.Fatalf("versions = %v, want %d, the first latest", got, writers)
		}
		marked := markedBlobs(t, n)
		for _, o := range objs {
			v, err := n.ObjectVersion("b", "same", o.VersionID)
			if err != nil || v.Blob != o.Blob {
				t.Fatalf("version %s = %+v, %v", o.VersionID, v, err)
			}
			if !marked[o.Blob] {
				t.Fatalf("blob of version %s not referenced", o.VersionID)
			}
		}
	}
	check(n)
	closeNode(t, n)
	n = openNode(t, testConfig(dir))
	check(n)
}

func TestListVersionsPrefixMarkers(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	setVersioning(t, n, "b", VersioningEnabled)
	// "a\x00" sorts between "a" and "ab": the escaping must keep that order.
	keys := []string{"a", "a\x00", "ab", "b/1", "b/2", "c"}
	for _, k := range keys {
		mustPut(t, n, testObject("b", k, k+"1"))
		mustPut(t, n, testObject("b", k, k+"2"))
	}
	if err := n.DeleteObject(ctxT(t), "b", "ab", ""); err != nil {
		t.Fatal(err)
	}
	all, more, err := n.ListVersions("b", "", "", "", 1000)
	if err != nil || more || len(all) != 13 {
		t.Fatalf("list = %d entries, more %v, %v; want 13", len(all), more, err)
	}
	paged := versionsOf(t, n, "b", "")
	for i, v := range all {
		if !strings.HasPrefix(paged[i], v.Key+"@"+v.S3VersionID()) {
			t.Fatalf("page walk differs at %d: %s vs %s", i, paged[i], v.Key)
		}
		if i > 0 && all[i-1].Key > v.Key {
			t.Fatalf("keys out of order: %q then %q", all[i-1].Key, v.Key)
		}
	}
	if got := versionsOf(t, n, "b", "b/"); len(got) != 4 || !strings.HasPrefix(got[0], "b/1@") {
		t.Fatalf("prefix b/ = %v", got)
	}
	// A key marker alone starts after every version of that key.
	page, _, err := n.ListVersions("b", "", "ab", "", 1000)
	if err != nil || len(page) != 6 || page[0].Key != "b/1" {
		t.Fatalf("after key ab: %d entries, first %+v, %v", len(page), page, err)
	}
}

// TestSetVersionMetadata: tags change in place, current or noncurrent, and
// make no new version; the current one's change goes to the remote.
func TestSetVersionMetadata(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	setVersioning(t, n, "b", VersioningEnabled)
	v1 := mustPut(t, n, testObject("b", "k", "one"))
	v2 := mustPut(t, n, testObject("b", "k", "two"))
	if err := n.JobDone(ctxT(t), v2.VersionID); err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{"x-amz-tagging": "a=b"}
	for _, v := range []Object{v1, v2} {
		if err := n.SetVersionMetadata(ctxT(t), "b", "k", v.VersionID, tags); err != nil {
			t.Fatal(err)
		}
		got, err := n.ObjectVersion("b", "k", v.VersionID)
		if err != nil || got.Metadata["x-amz-tagging"] != "a=b" || got.Blob != v.Blob {
			t.Fatalf("version %s after retag: %+v, %v", v.VersionID, got, err)
		}
	}
	if got := versionsOf(t, n, "b", ""); len(got) != 2 {
		t.Fatalf("retagging made versions: %v", got)
	}
	if j, err := n.Job(v2.VersionID); err != nil || j.Object.Metadata["x-amz-tagging"] != "a=b" {
		t.Fatalf("the current version's put job: %+v, %v; want one with the new tags", j, err)
	}
	if err := n.SetVersionMetadata(ctxT(t), "b", "k", "06H472WMWZPTXBX8PYNFZXWD78", tags); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("retag of a missing version: %v", err)
	}
}

// TestRestoredPutKeepsVersions: a version restored from the remote over
// another one of a versioned bucket keeps the one it replaces.
func TestRestoredPutKeepsVersions(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	setVersioning(t, n, "b", VersioningEnabled)
	local := mustPut(t, n, testObject("b", "k", "local"))
	restored := testObject("b", "k", "restored")
	restored.ModTime = local.ModTime.Add(time.Hour)
	restored.Replica = Replica{ETag: "e", Size: restored.Size, At: time.Now()}
	if applied, err := n.PutRestoredObject(ctxT(t), restored); err != nil || !applied {
		t.Fatalf("restored put: %v, %v", applied, err)
	}
	if got := versionsOf(t, n, "b", ""); len(got) != 2 {
		t.Fatalf("versions after a restored put: %v, want the local one kept", got)
	}
	if _, err := n.Job(local.VersionID); err != nil {
		t.Fatalf("the kept version's upload: %v", err)
	}
}
