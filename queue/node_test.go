package queue

import (
	"errors"
	"fmt"
	"testing"
)

func TestPutGetList(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "photos")
	want := map[string]Object{}
	for i := 0; i < 25; i++ {
		key := fmt.Sprintf("2026/%02d.jpg", i)
		if i%5 == 0 {
			key = fmt.Sprintf("other/%02d.txt", i)
		}
		want[key] = mustPut(t, n, testObject("photos", key, "content "+key))
	}

	for key, w := range want {
		got, err := n.Object("photos", key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if got.VersionID != w.VersionID || got.Blob != w.Blob || got.SHA256 != w.SHA256 || got.Size != w.Size ||
			got.ETag != w.ETag || got.Metadata["owner"] != "test" || !got.ModTime.Equal(w.ModTime) || got.Key != key {
			t.Fatalf("get %s = %+v, want %+v", key, got, w)
		}
	}
	if _, err := n.Object("photos", "missing"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("missing key: %v, want ErrNoSuchKey", err)
	}
	if _, err := n.Object("nope", "x"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("missing bucket: %v, want ErrNoSuchBucket", err)
	}

	// Page through the 2026/ prefix 7 at a time.
	var keys []string
	after := ""
	for pages := 0; ; pages++ {
		page, truncated, err := n.ListObjects("photos", "2026/", after, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			keys = append(keys, o.Key)
		}
		if !truncated {
			break
		}
		after = page[len(page)-1].Key
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if len(keys) != 20 {
		t.Fatalf("listed %d keys under 2026/, want 20: %v", len(keys), keys)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("keys out of order: %q before %q", keys[i-1], keys[i])
		}
	}
	all, truncated, err := n.ListObjects("photos", "", "", 0)
	if err != nil || truncated || len(all) != 25 {
		t.Fatalf("list all: %d objects, truncated %v, err %v", len(all), truncated, err)
	}
	page, truncated, err := n.ListObjects("photos", "other/", "2026/99", 2)
	if err != nil || !truncated || len(page) != 2 || page[0].Key != "other/00.txt" {
		t.Fatalf("list other/ after a smaller startAfter: %v %v %v", page, truncated, err)
	}
	if _, _, err := n.ListObjects("nope", "", "", 10); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("list missing bucket: %v", err)
	}
	if s := stats(t, n); s.Objects != 25 || s.Buckets != 1 || s.Jobs != 25 {
		t.Fatalf("stats %+v", s)
	}
}
