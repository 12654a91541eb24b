package restore

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
)

// TestRestore_DeletedRule applies the snapshot rule to every case a remote
// object can be in, with and without --include-deleted, and counts the HEADs
// the snapshot saves.
func TestRestore_DeletedRule(t *testing.T) {
	taken := time.Now().Add(-time.Hour).UTC()
	tests := []struct {
		name           string
		includeDeleted bool
		want           map[string]Status
		wantHeads      []string
	}{
		{"default", false, map[string]Status{
			"docs/in-index": Restored, "docs/deleted-long-ago": Skipped, "docs/put-after": Restored,
			"docs/deleted-near": Skipped, "docs/not-on-remote": Skipped, "docs/replaced": Restored,
		}, []string{"docs/deleted-near", "docs/put-after", "docs/replaced"}},
		{"include deleted", true, map[string]Status{
			"docs/in-index": Restored, "docs/deleted-long-ago": Restored, "docs/put-after": Restored,
			"docs/deleted-near": Restored, "docs/not-on-remote": Skipped, "docs/replaced": Restored,
		}, []string{"docs/deleted-long-ago", "docs/deleted-near", "docs/put-after", "docs/replaced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rem := newFakeRemote()
			inIndex := rem.put("docs/in-index", []byte("kept"), taken.Add(-2*time.Hour), taken.Add(-2*time.Hour))
			rem.put("docs/deleted-long-ago", []byte("old"), taken.Add(-3*time.Hour), taken.Add(-3*time.Hour))
			rem.put("docs/put-after", []byte("new"), taken.Add(time.Minute), taken.Add(time.Minute))
			// Uploaded after the snapshot (a backlog), but put and deleted before it.
			rem.put("docs/deleted-near", []byte("backlog"), taken.Add(-time.Minute), taken.Add(time.Minute))
			old := rem.put("docs/replaced", []byte("version 1"), taken.Add(-2*time.Hour), taken.Add(-2*time.Hour))
			rem.put("docs/replaced", []byte("version 2"), taken.Add(time.Minute), taken.Add(time.Minute))
			gone := remoteindex.Object{Bucket: "docs", Key: "not-on-remote", Size: 3, SHA256: strings.Repeat("a", 64), ETag: "x",
				Remote: remoteindex.Replica{ETag: "y", Size: 3}}
			rem.putSnapshot(t, testID, taken, inIndex, old, gone)

			a := openTestArchive(t)
			rec := &recorder{}
			res, err := a.restorer(rem, rec, func(o *Options) { o.IncludeDeleted = tt.includeDeleted }).Run(context.Background())
			if err != nil {
				t.Fatalf("restore: %v (%+v)", err, res)
			}
			if !res.UsedSnapshot {
				t.Fatalf("the snapshot was not used: %s", res.Source)
			}
			for name, want := range tt.want {
				if got := rec.out[name]; got.Status != want {
					t.Errorf("%s: %s (%s), want %s", name, got.Status, got.Reason, want)
				}
			}
			slices.Sort(rem.heads)
			if !slices.Equal(rem.heads, tt.wantHeads) {
				t.Errorf("HEADs %v, want %v", rem.heads, tt.wantHeads)
			}
			o, err := a.node.Object("docs", "replaced")
			if err != nil || o.Size != int64(len("version 2")) {
				t.Errorf("docs/replaced: %+v %v, want the remote's newer version", o, err)
			}
			if o.Metadata["x-amz-meta-owner"] != "alice" || o.ContentType != "text/plain" || !o.Replicated() {
				t.Errorf("docs/replaced lost its metadata or its replicated mark: %+v", o)
			}
			if st, _ := a.node.Stats(); st.Jobs != 0 {
				t.Errorf("the restore queued %d jobs", st.Jobs)
			}
		})
	}
}

// TestRestore_MergeKeepsNewerLocal: a key with a newer local version is never
// overwritten; an archive with objects is refused without --merge.
func TestRestore_MergeKeepsNewerLocal(t *testing.T) {
	rem := newFakeRemote()
	now := time.Now().UTC()
	rem.put("docs/a", []byte("remote, older"), now.Add(-time.Hour), now.Add(-time.Hour))
	rem.put("docs/b", []byte("remote only"), now.Add(-time.Hour), now.Add(-time.Hour))
	rem.objects["docs/b"].meta.Dropped = []string{"user-metadata"} // over S3's 2 KiB
	a := openTestArchive(t)
	ctx := context.Background()
	a.node.CreateBucket(ctx, "docs", now)
	b, err := a.store.Put(ctx, strings.NewReader("local, newer"))
	if err != nil {
		t.Fatal(err)
	}
	local := queue.Object{Bucket: "docs", Key: "a", VersionID: queue.NewVersionID(now), Blob: b.Digest.String(), Size: b.Size,
		ETag: "e", SHA256: b.Digest.String(), ModTime: now}
	if err := a.node.PutObject(ctx, local); err != nil {
		t.Fatal(err)
	}
	if _, err := a.restorer(rem, &recorder{}, nil).Run(ctx); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "--merge") {
		t.Fatalf("restore into an archive without --merge: %v", err)
	}
	rec := &recorder{}
	if _, err := a.restorer(rem, rec, func(o *Options) { o.Merge = true; o.NoSnapshot = true }).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.out["docs/a"]; got.Status != Skipped || got.Reason != "a newer local version exists" {
		t.Errorf("docs/a: %+v, want skipped for the newer local version", got)
	}
	if o, _ := a.node.Object("docs", "a"); o.SHA256 != local.SHA256 {
		t.Error("the newer local version was overwritten")
	}
	if got := rec.out["docs/b"]; got.Status != Restored || len(got.Lacking) != 1 || got.Lacking[0] != "user-metadata" {
		t.Errorf("docs/b: %+v, want restored, reported as lacking its user metadata", got)
	}
}

// TestRestore_CorruptRemoteFailsAlone: bytes that do not match the SHA-256
// fail that object only, with its name, the reason and the fix, and leave
// nothing in the index; a large one (fetched in ranges) too.
func TestRestore_CorruptRemoteFailsAlone(t *testing.T) {
	rem := newFakeRemote()
	now := time.Now().UTC()
	rem.put("docs/good", []byte("fine"), now, now)
	rem.put("docs/small-bad", []byte("original"), now, now)
	big := make([]byte, 3<<20+5)
	rem.put("docs/big-bad", big, now, now)
	rem.objects["docs/small-bad"].data = []byte("0riginal")
	rem.objects["docs/big-bad"].data[2<<20] = 1
	a := openTestArchive(t)
	rec := &recorder{}
	res, err := a.restorer(rem, rec, func(o *Options) { o.NoSnapshot = true }).Run(context.Background())
	if !errors.Is(err, ErrFailed) || res.Failed != 2 || res.Restored != 1 {
		t.Fatalf("restore: %v %+v, want 2 failed and 1 restored", err, res)
	}
	for _, name := range []string{"docs/small-bad", "docs/big-bad"} {
		f := rec.out[name]
		if f.Status != Failed || !strings.Contains(f.Reason, "SHA-256") || f.Fix == "" {
			t.Errorf("%s: %+v, want failed with the SHA-256 and a fix", name, f)
		}
		_, key, _ := strings.Cut(name, "/")
		if _, err := a.node.Object("docs", key); err == nil {
			t.Errorf("%s is in the index", name)
		}
	}
}

// TestMultipartETag computes a multipart ETag from its parts' MD5s, an
// empty part included.
func TestMultipartETag(t *testing.T) {
	var md5s [][md5.Size]byte
	var sums []byte
	for _, p := range []string{"abc", "", "de"} {
		s := md5.Sum([]byte(p))
		md5s = append(md5s, s)
		sums = append(sums, s[:]...)
	}
	if got, want := multipartETag(md5s), fmt.Sprintf("%x-3", md5.Sum(sums)); got != want {
		t.Fatalf("ETag %s, want %s", got, want)
	}
}

// TestTerminalProgress draws the bar a terminal shows: objects, bytes, rate
// and ETA, with failures printed above it.
func TestTerminalProgress(t *testing.T) {
	var buf syncBuffer
	p := NewTerminalProgress(&buf)
	p.Planned(4, 4<<20)
	p.Fetched(1 << 20)
	p.Object(Outcome{Name: "docs/a", Size: 1 << 20, Status: Restored})
	p.Object(Outcome{Name: "docs/b", Size: 1, Status: Failed, Reason: "its bytes hash to SHA-256 x"})
	p.Close()
	out := buf.String()
	for _, want := range []string{"2/4 objects", "1.0 MiB/4.0 MiB", "/s", "ETA", "failed docs/b: its bytes hash to SHA-256 x"} {
		if !strings.Contains(out, want) {
			t.Errorf("the progress output lacks %q:\n%q", want, out)
		}
	}
}

// TestRestore_BucketAndPrefix restores only what --bucket and --prefix select.
func TestRestore_BucketAndPrefix(t *testing.T) {
	rem := newFakeRemote()
	now := time.Now().UTC()
	for _, name := range []string{"docs/2026/a", "docs/2026/b", "docs/2025/c", "docs-old/2026/d", "photos/2026/e"} {
		rem.put(name, []byte(name), now, now)
	}
	a := openTestArchive(t)
	res, err := a.restorer(rem, &recorder{}, func(o *Options) { o.Bucket, o.Prefix = "docs", "2026/" }).Run(context.Background())
	if err != nil || res.Restored != 2 {
		t.Fatalf("restore --bucket docs --prefix 2026/: %+v %v, want 2 restored", res, err)
	}
	bs, _ := a.node.Buckets()
	if len(bs) != 1 || bs[0].Name != "docs" {
		t.Errorf("buckets %+v, want docs only", bs)
	}
	for _, key := range []string{"2026/a", "2026/b"} {
		if _, err := a.node.Object("docs", key); err != nil {
			t.Errorf("docs/%s: %v", key, err)
		}
	}
	if _, err := a.node.Object("docs", "2025/c"); err == nil {
		t.Error("docs/2025/c was restored outside the prefix")
	}
}
