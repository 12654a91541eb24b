package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var partTime = time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)

func testPart(number int, content string) UploadPart {
	return UploadPart{Number: number, Blob: blobOf(content), Size: int64(len(content)),
		ETag: fmt.Sprintf("%032x", number), Checksums: map[string]string{"CRC32": "AAAAAA=="}, ModTime: partTime}
}

func mustUpload(t testing.TB, n *Node, bucket, key, id string) {
	t.Helper()
	u := Upload{ID: id, Bucket: bucket, Key: key, Created: partTime, ContentType: "video/mp4",
		Metadata: map[string]string{"camera": "pi"}, ChecksumAlgorithm: "CRC32"}
	if err := n.CreateUpload(ctxT(t), u); err != nil {
		t.Fatalf("create upload %s: %v", id, err)
	}
}

func mustPart(t testing.TB, n *Node, id string, p UploadPart) {
	t.Helper()
	if err := n.PutUploadPart(ctxT(t), id, p); err != nil {
		t.Fatalf("put part %d of %s: %v", p.Number, id, err)
	}
}

func mustGetUpload(t testing.TB, n *Node, id string) Upload {
	t.Helper()
	u, err := n.Upload(id)
	if err != nil {
		t.Fatalf("upload %s: %v", id, err)
	}
	return u
}

// composite is the object a CompleteUpload of parts makes.
func composite(bucket, key string, parts ...UploadPart) Object {
	o := Object{Bucket: bucket, Key: key, VersionID: NewVersionID(time.Now()), ETag: "0123456789abcdef0123456789abcdef-2",
		SHA256: blobOf("whole"), ContentType: "video/mp4", ModTime: partTime}
	for _, p := range parts {
		o.Parts = append(o.Parts, ObjectPart{Blob: p.Blob, Size: p.Size})
		o.Size += p.Size
	}
	return o
}

func wantRefs(t testing.TB, n *Node, step string, refs map[string]bool) {
	t.Helper()
	for content, want := range refs {
		if got := referenced(t, n, blobOf(content)); got != want {
			t.Fatalf("%s: blob %q referenced = %v, want %v", step, content, got, want)
		}
	}
}

func TestMultipartUpload(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	if err := n.CreateUpload(ctx, Upload{ID: "u1", Bucket: "nope", Key: "k"}); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("upload into a missing bucket: %v", err)
	}
	mustUpload(t, n, "b", "movie.mp4", "u1")
	mustUpload(t, n, "b", "movie.mp4", "u1") // a retry
	p1, p2, p3 := testPart(1, "one"), testPart(2, "two"), testPart(3, "three")
	mustPart(t, n, "u1", p3) // out of order
	mustPart(t, n, "u1", p1)
	mustPart(t, n, "u1", p2)
	mustPart(t, n, "u1", p2) // a retry
	wantRefs(t, n, "after 3 parts", map[string]bool{"one": true, "two": true, "three": true})

	// Replacing part 2 drops the old blob's reference.
	p2b := testPart(2, "two, again")
	mustPart(t, n, "u1", p2b)
	wantRefs(t, n, "after replacing part 2", map[string]bool{"two": false, "two, again": true})

	u := mustGetUpload(t, n, "u1")
	want := Upload{ID: "u1", Bucket: "b", Key: "movie.mp4", Created: partTime, ContentType: "video/mp4",
		Metadata: map[string]string{"camera": "pi"}, ChecksumAlgorithm: "CRC32", Parts: []UploadPart{p1, p2b, p3}}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("upload:\n got %+v\nwant %+v", u, want)
	}
	if err := n.PutUploadPart(ctx, "missing", p1); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("part of a missing upload: %v", err)
	}
	if err := n.PutUploadPart(ctx, "u1", testPart(10001, "x")); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("part number 10001: %v", err)
	}
	if _, err := n.Upload("missing"); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("missing upload: %v", err)
	}
	if s := stats(t, n); s.Objects != 0 || s.Jobs != 0 {
		t.Fatalf("an upload in progress shows in the stats: %+v", s)
	}

	// Complete with parts 1 and 3: part 2's blob loses its last reference.
	o := composite("b", "movie.mp4", p1, p3)
	wrongKey := o
	wrongKey.Key = "other"
	if err := n.CompleteUpload(ctx, "u1", wrongKey); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("complete into another key: %v", err)
	}
	if err := n.CompleteUpload(ctx, "u1", o); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "after complete", map[string]bool{"one": true, "two, again": false, "three": true})
	got, err := n.Object("b", "movie.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if got.Blob != "" || got.Size != 8 || !reflect.DeepEqual(got.Parts, o.Parts) || got.VersionID != o.VersionID || got.ETag != o.ETag {
		t.Fatalf("completed object %+v, want %+v", got, o)
	}
	if _, err := n.Upload("u1"); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("completed upload still there: %v", err)
	}
	job, err := n.Job(o.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Op != JobPut || job.Blob != "" || job.Size != 8 || !reflect.DeepEqual(job.Object.Parts, o.Parts) ||
		job.Object.SHA256 != o.SHA256 || job.Object.ETag != o.ETag || job.Object.Key != "movie.mp4" {
		t.Fatalf("replication job %+v", job)
	}

	// A retry after success is recognised; a different version is not.
	if err := n.CompleteUpload(ctx, "u1", o); err != nil {
		t.Fatalf("retry of a successful complete: %v", err)
	}
	other := o
	other.VersionID = NewVersionID(time.Now())
	if err := n.CompleteUpload(ctx, "u1", other); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("complete of a finished upload with another version: %v", err)
	}
	if err := n.PutUploadPart(ctx, "u1", p1); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("part after complete: %v", err)
	}
	// Still recognised once a newer version replaced it, while its job waits.
	mustPut(t, n, testObject("b", "movie.mp4", "plain"))
	if err := n.CompleteUpload(ctx, "u1", o); err != nil {
		t.Fatalf("retry of a complete overwritten since: %v", err)
	}
	wantRefs(t, n, "after overwrite, job pending", map[string]bool{"one": true, "three": true})
	if err := n.JobDone(ctx, o.VersionID); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "after overwrite and JobDone", map[string]bool{"one": false, "three": false, "plain": true})
	if s := stats(t, n); s.Objects != 1 || s.Bytes != 5 {
		t.Fatalf("stats %+v", s)
	}
}

// TestPartBlobCountedPerOccurrence: the same blob twice in one object needs
// two references dropped.
func TestPartBlobCountedPerOccurrence(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	mustUpload(t, n, "b", "k", "u1")
	a1, a2 := testPart(1, "same"), testPart(2, "same")
	mustPart(t, n, "u1", a1)
	mustPart(t, n, "u1", a2)
	o := composite("b", "k", a1, a2)
	if err := n.CompleteUpload(ctx, "u1", o); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "complete [same, same]", map[string]bool{"same": true})
	if err := n.JobDone(ctx, o.VersionID); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "after JobDone", map[string]bool{"same": true})
	// CopyObject: a new version with the same parts.
	cp := o
	cp.Key, cp.VersionID = "copy", NewVersionID(time.Now())
	mustPut(t, n, cp)
	if err := n.DeleteObject(ctx, "b", "k", ""); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "original deleted, copy and its job left", map[string]bool{"same": true})
	if err := n.JobDone(ctx, cp.VersionID); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "copy's job done", map[string]bool{"same": true})
	if err := n.DeleteObject(ctx, "b", "copy", ""); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "both deleted", map[string]bool{"same": false})

	bad := composite("b", "k", a1)
	bad.Size++
	if err := n.PutObject(ctx, bad); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("parts not adding up to the size: %v", err)
	}
	bad = composite("b", "k", a1)
	bad.Blob = a1.Blob
	if err := n.PutObject(ctx, bad); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("composite object with a blob: %v", err)
	}
}

func TestAbortUpload(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	shared := mustPut(t, n, testObject("b", "k", "shared"))
	mustUpload(t, n, "b", "k", "u1")
	mustPart(t, n, "u1", testPart(1, "only in the upload"))
	mustPart(t, n, "u1", testPart(2, "shared"))
	if err := n.JobDone(ctx, shared.VersionID); err != nil {
		t.Fatal(err)
	}
	if err := n.AbortUpload(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	wantRefs(t, n, "after abort", map[string]bool{"only in the upload": false, "shared": true})
	if err := n.AbortUpload(ctx, "u1"); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("second abort: %v", err)
	}
	if err := n.PutUploadPart(ctx, "u1", testPart(3, "late")); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("part after abort: %v", err)
	}
	if err := n.CompleteUpload(ctx, "u1", composite("b", "k", testPart(1, "only in the upload"))); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("complete after abort: %v", err)
	}
	if ups, _, _ := n.ListUploads("b", "", "", "", 0); len(ups) != 0 {
		t.Fatalf("aborted upload listed: %+v", ups)
	}
}

func TestDeleteBucketAbortsUploads(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	mustUpload(t, n, "b", "k", "u1")
	mustPart(t, n, "u1", testPart(1, "part"))
	if err := n.DeleteBucket(ctx, "b"); err != nil {
		t.Fatalf("delete a bucket with only an upload in progress: %v", err)
	}
	wantRefs(t, n, "after bucket delete", map[string]bool{"part": false})
	if _, err := n.Upload("u1"); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("upload of a deleted bucket: %v", err)
	}
	mustBucket(t, n, "b")
	if ups, _, err := n.ListUploads("b", "", "", "", 0); err != nil || len(ups) != 0 {
		t.Fatalf("uploads of a recreated bucket: %+v %v", ups, err)
	}
}

func TestListUploads(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	mustBucket(t, n, "b2")
	// Keys chosen so that one is a prefix of another, with a NUL byte
	// between (which must sort between "a" and "a/").
	type ref struct{ key, id string }
	want := []ref{{"a", "u1"}, {"a", "u3"}, {"a\x00z", "u0"}, {"a/1", "u2"}, {"a/1", "u5"}, {"a/2", "u4"}, {"b", "u6"}}
	for _, r := range []ref{want[6], want[4], want[0], want[3], want[2], want[1], want[5]} {
		mustUpload(t, n, "b", r.key, r.id)
	}
	mustUpload(t, n, "b2", "a", "other-bucket")
	list := func(prefix, keyMarker, idMarker string, limit int) ([]ref, bool) {
		t.Helper()
		ups, more, err := n.ListUploads("b", prefix, keyMarker, idMarker, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []ref
		for _, u := range ups {
			if u.Bucket != "b" || len(u.Parts) != 0 || u.ContentType != "video/mp4" {
				t.Fatalf("listed %+v", u)
			}
			out = append(out, ref{u.Key, u.ID})
		}
		return out, more
	}
	for _, tc := range []struct {
		name            string
		prefix, km, idm string
		limit           int
		want            []ref
		truncated       bool
	}{
		{"all", "", "", "", 0, want, false},
		{"page", "", "", "", 3, want[:3], true},
		{"prefix a/", "a/", "", "", 0, want[3:6], false},
		{"prefix a", "a", "", "", 0, want[:6], false},
		{"after key a", "", "a", "", 0, want[2:], false},
		{"after a/u1", "", "a", "u1", 0, want[1:], false},
		{"after a/1 u2", "a/", "a/1", "u2", 2, want[4:6], false},
		{"marker before prefix", "a/", "0", "", 0, want[3:6], false},
		{"marker after prefix", "a/", "a/9", "", 0, nil, false},
		{"id marker ignored without key marker", "", "", "u3", 0, want, false},
		{"exact page end", "", "", "", 7, want, false},
	} {
		got, more := list(tc.prefix, tc.km, tc.idm, tc.limit)
		if !reflect.DeepEqual(got, tc.want) || more != tc.truncated {
			t.Errorf("%s: got %q (more %v), want %q (more %v)", tc.name, got, more, tc.want, tc.truncated)
		}
	}
	// Paging with the last entry as markers visits everything once.
	var all []ref
	km, idm := "", ""
	for pages := 0; ; pages++ {
		page, more := list("", km, idm, 2)
		all = append(all, page...)
		if !more {
			break
		}
		km, idm = page[len(page)-1].key, page[len(page)-1].id
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("paged: %q", all)
	}
	if _, _, err := n.ListUploads("nope", "", "", "", 0); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("missing bucket: %v", err)
	}
}

func TestUploadSurvivesRestartAndSnapshot(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.TrailingLogs = 4
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	mustUpload(t, n, "b", "k", "u1")
	mustPart(t, n, "u1", testPart(1, "one"))
	before := mustGetUpload(t, n, "u1")
	closeNode(t, n)

	n = openNode(t, cfg)
	if got := mustGetUpload(t, n, "u1"); !reflect.DeepEqual(got, before) {
		t.Fatalf("after restart:\n got %+v\nwant %+v", got, before)
	}
	mustPart(t, n, "u1", testPart(2, "two"))
	for i := range 10 { // enough entries for the snapshot to truncate the log
		mustBucket(t, n, fmt.Sprint("pad", i))
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	mustPart(t, n, "u1", testPart(3, "three")) // only in the log
	before = mustGetUpload(t, n, "u1")
	closeNode(t, n)
	if err := os.Remove(filepath.Join(cfg.Dir, fsmFile)); err != nil {
		t.Fatal(err)
	}

	n = openNode(t, cfg)
	got := mustGetUpload(t, n, "u1")
	if !reflect.DeepEqual(got, before) || len(got.Parts) != 3 {
		t.Fatalf("after restoring the snapshot:\n got %+v\nwant %+v", got, before)
	}
	wantRefs(t, n, "after restore", map[string]bool{"one": true, "two": true, "three": true})
}

// TestUpgradeSchema1: a database written before uploads existed gains
// their buckets on open and keeps its objects.
func TestUpgradeSchema1(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	o := mustPut(t, n, testObject("b", "k", "old"))
	closeNode(t, n)
	db, err := bolt.Open(filepath.Join(cfg.Dir, fsmFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bktUploads, bktUpParts, bktUpKeys} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		// Schemas 1 and 2 kept per-blob reference counts; schema 3 drops them.
		refs, err := tx.CreateBucket(bktRefs)
		if err != nil {
			return err
		}
		if err := refs.Put(make([]byte, 32), []byte{2}); err != nil {
			return err
		}
		return putU64(tx.Bucket(bktMeta), keySchema, 1)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	n = openNode(t, cfg)
	if got, err := n.Object("b", "k"); err != nil || got.VersionID != o.VersionID {
		t.Fatalf("object after upgrade: %+v %v", got, err)
	}
	mustUpload(t, n, "b", "k2", "u1")
	mustPart(t, n, "u1", testPart(1, "new"))
	wantRefs(t, n, "after upgrade", map[string]bool{"old": true, "new": true})
	n.fsm.view(func(tx *bolt.Tx) error {
		if v := getU64(tx.Bucket(bktMeta), keySchema); v != schemaVersion {
			t.Errorf("schema version %d after upgrade, want %d", v, schemaVersion)
		}
		if tx.Bucket(bktRefs) != nil {
			t.Error("the reference counts of an older schema survived the upgrade")
		}
		return nil
	})
}
