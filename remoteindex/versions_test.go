package remoteindex

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
)

// TestSnapshot_Versions: a snapshot of a journal with a versioned bucket is
// format 2, carries the bucket's versioning, and lists each key's current
// object, then its noncurrent versions and delete marker, newest first,
// each with where it is on the remote; Validate takes the repeated names,
// and a writer refuses a second current object of one name.
func TestSnapshot_Versions(t *testing.T) {
	n := openQueue(t)
	ctx := context.Background()
	if err := n.CreateBucket(ctx, "docs", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := n.SetBucketSetting(ctx, "docs", queue.SettingVersioning, queue.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	blob := func(c byte) string { return string(bytes.Repeat([]byte{c}, 64)) }
	var ids []string
	for i, c := range []byte{'1', '2'} {
		o := queue.Object{Bucket: "docs", Key: "a.txt", VersionID: queue.NewVersionID(time.Now()), Blob: blob(c), SHA256: blob(c),
			Size: int64(i + 1), ETag: "e", ModTime: time.Now()}
		if err := n.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.VersionID)
	}
	// b.txt: put, then deleted (a delete marker is its latest version).
	if err := n.PutObject(ctx, queue.Object{Bucket: "docs", Key: "b.txt", VersionID: queue.NewVersionID(time.Now()), Blob: blob('3'),
		SHA256: blob('3'), Size: 3, ETag: "e", ModTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteObject(ctx, "docs", "b.txt", ""); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Write(ctx, &buf, n, Header{Identity: testIdentity}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Validate(bytes.NewReader(buf.Bytes()), &testIdentity); err != nil {
		t.Fatalf("validate: %v", err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := r.Buckets()
	if err != nil || r.Header().Format != FormatVersioned || len(bs) != 1 || bs[0].Settings[SettingVersioning] != queue.VersioningEnabled {
		t.Fatalf("header %+v, buckets %+v, %v: want format %d and the bucket's versioning", r.Header(), bs, err, FormatVersioned)
	}
	var got []Object
	for {
		o, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o)
	}
	if len(got) != 4 {
		t.Fatalf("%d lines, want 4 (a.txt: current, noncurrent; b.txt: delete marker, noncurrent): %+v", len(got), got)
	}
	check := func(i int, key, id string, noncurrent, marker bool, at string) {
		t.Helper()
		o := got[i]
		if o.Key != key || (id != "" && o.VersionID != id) || o.Noncurrent != noncurrent || o.DeleteMarker != marker || o.RemoteName() != at {
			t.Errorf("line %d: %s %s noncurrent %v marker %v at %s; want %s %s %v %v %s",
				i, o.Key, o.VersionID, o.Noncurrent, o.DeleteMarker, o.RemoteName(), key, id, noncurrent, marker, at)
		}
	}
	check(0, "a.txt", ids[1], false, false, "docs/a.txt")
	check(1, "a.txt", ids[0], true, false, ".ipas/versions/docs/a.txt/"+ids[0])
	check(2, "b.txt", "", false, true, "docs/b.txt")
	check(3, "b.txt", "", true, false, ".ipas/versions/docs/b.txt/"+got[3].VersionID)
	// A second current object of one name is out of order.
	w, err := NewWriter(io.Discard, Header{})
	if err != nil {
		t.Fatal(err)
	}
	o := Object{Bucket: "docs", Key: "a.txt"}
	if err := w.AddObject(&o); err != nil {
		t.Fatal(err)
	}
	if err := w.AddObject(&o); err == nil {
		t.Error("a second current object of one name was written")
	}
}
