package remoteindex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/queuetest"
	"github.com/ipas/ipas/queue"
)

var testIdentity = Identity{ArchiveID: "arch-1", Endpoint: "http://remote", Bucket: "offsite", Prefix: "pi1"}

func openQueue(t *testing.T) *queue.Node { return queuetest.Open(t) }

// TestSnapshot_RoundTripFromJournal snapshots a real journal and reads back
// every bucket and object, with every field restore needs, in listing order.
func TestSnapshot_RoundTripFromJournal(t *testing.T) {
	n := openQueue(t)
	ctx := context.Background()
	mtime := time.Date(2026, 11, 1, 12, 0, 0, 123, time.UTC)
	// "a-b" sorts before "a" once "/" is appended: the order of a LIST.
	for _, b := range []string{"a", "a-b", "photos"} {
		if err := n.CreateBucket(ctx, b, mtime); err != nil {
			t.Fatal(err)
		}
	}
	blob := func(c byte) string { return string(bytes.Repeat([]byte{c}, 64)) }
	objs := []queue.Object{
		{Bucket: "a", Key: "x", VersionID: "V1", Blob: blob('1'), Size: 3, ETag: "e1", SHA256: blob('1'), ModTime: mtime,
			ContentType: "text/plain", Metadata: map[string]string{"x-amz-meta-owner": "alice", "Cache-Control": "max-age=60"},
			Checksums: map[string]string{"CRC32": "AAAAAA=="}},
		{Bucket: "a-b", Key: "y", VersionID: "V2", Size: 20, ETag: "e2-2", SHA256: blob('2'), ModTime: mtime,
			Parts:     []queue.ObjectPart{{Blob: blob('3'), Size: 15}, {Blob: blob('4'), Size: 5}},
			Checksums: map[string]string{"CRC32C": "AAAAAA==-2"}},
		{Bucket: "photos", Key: "2026/beach.jpg", VersionID: "V3", Blob: blob('5'), Size: 7, ETag: "e3", SHA256: blob('5'), ModTime: mtime},
	}
	for _, o := range objs {
		if err := n.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	h := Header{Identity: testIdentity, TakenAt: mtime, JournalIndex: 42}
	tr, err := Write(ctx, &buf, n, h, func(b *Bucket) {
		if b.Name == "photos" {
			b.Policy = "mirror"
			b.DropFolders = []DropFolder{{Path: "/srv/photos", Prefix: "cam/"}}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Buckets != 3 || tr.Objects != 3 || tr.Bytes != 30 {
		t.Fatalf("trailer %+v, want 3 buckets, 3 objects, 30 bytes", tr)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// Without a versioned bucket the snapshot is format 1, which an IPAS
	// that predates versions reads.
	if got := r.Header(); got.Format != FormatPlain || got.Identity != testIdentity || got.JournalIndex != 42 || !got.TakenAt.Equal(mtime) {
		t.Fatalf("header %+v", got)
	}
	bs, err := r.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 || bs[0].Name != "a-b" || bs[1].Name != "a" || bs[2].Policy != "mirror" || bs[2].DropFolders[0].Prefix != "cam/" {
		t.Fatalf("buckets %+v: want a-b, a, photos (mirror, drop folder)", bs)
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
	if len(got) != 3 || got[0].Name() != "a-b/y" || got[1].Name() != "a/x" || got[2].Name() != "photos/2026/beach.jpg" {
		t.Fatalf("objects %v: want listing order a-b/y, a/x, photos/...", got)
	}
	x := got[1].ToQueue(blob('1'), nil)
	if x.Metadata["x-amz-meta-owner"] != "alice" || x.Metadata["Cache-Control"] != "max-age=60" || x.Checksums["CRC32"] != "AAAAAA==" ||
		x.ContentType != "text/plain" || !x.ModTime.Equal(mtime) || x.ETag != "e1" || x.VersionID != "V1" {
		t.Fatalf("a/x came back as %+v", x)
	}
	if y := got[0]; len(y.PartSizes) != 2 || y.PartSizes[0] != 15 || y.ETag != "e2-2" || y.Checksums["CRC32C"] != "AAAAAA==-2" {
		t.Fatalf("a-b/y came back as %+v", y)
	}
	// Each part's SHA-256 lets a restore check the part it names a blob.
	if y := got[0]; !slices.Equal(y.PartSHA256, []string{blob('3'), blob('4')}) || got[1].PartSHA256 != nil {
		t.Fatalf("part SHA-256s: a-b/y %v, a/x %v; want the parts' blobs, none", y.PartSHA256, got[1].PartSHA256)
	}
}

func sample(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Identity: testIdentity, TakenAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	w.AddBucket(Bucket{Name: "docs"})
	for i := range n {
		if err := w.AddObject(&Object{Bucket: "docs", Key: fmt.Sprintf("k%06d", i), Size: int64(i), SHA256: "ab", ETag: "cd"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestValidate_RefusesDamagedSnapshots: every way a snapshot can be unusable
// is refused with the error that names it, never read as a shorter index.
func TestValidate_RefusesDamagedSnapshots(t *testing.T) {
	good := sample(t, 2000)
	if _, tr, err := Validate(bytes.NewReader(good), &testIdentity); err != nil || tr.Objects != 2000 {
		t.Fatalf("a good snapshot: %+v, %v", tr, err)
	}
	// Any single flipped bit is caught, wherever it is.
	for i := 0; i < len(good); i += 97 {
		flipped := bytes.Clone(good)
		flipped[i] ^= 0x40
		if _, _, err := Validate(bytes.NewReader(flipped), &testIdentity); err == nil {
			t.Fatalf("byte %d of %d flipped: the snapshot was accepted", i, len(good))
		}
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	newer := rewriteFormat(t, sample(t, 0), FormatVersion+1)
	other := testIdentity
	other.Prefix = "pi2"
	otherArchive := testIdentity
	otherArchive.ArchiveID = "arch-2"
	tests := []struct {
		name string
		data []byte
		want Identity
		err  error
	}{
		{"cut in the middle", good[:len(good)/2], testIdentity, ErrTruncated},
		{"cut before the gzip trailer", good[:len(good)-4], testIdentity, ErrTruncated},
		{"one byte flipped", flipped, testIdentity, ErrTruncated},
		{"empty", nil, testIdentity, ErrTruncated},
		{"not gzip", []byte("hello"), testIdentity, ErrTruncated},
		{"newer format", newer, testIdentity, ErrNewerFormat},
		{"another prefix", good, other, ErrOtherArchive},
		{"another archive", good, otherArchive, ErrOtherArchive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Validate(bytes.NewReader(tt.data), &tt.want)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
		})
	}
}

// rewriteFormat decodes a snapshot without objects and writes it again with
// the header's format set to f.
func rewriteFormat(t *testing.T, data []byte, f int) []byte {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	h := r.Header()
	h.Format = FormatVersion
	w, _ := NewWriter(&buf, h)
	w.Close()
	// NewWriter writes no format it does not know: patch the one digit.
	raw := gunzip(t, buf.Bytes())
	raw = bytes.Replace(raw, []byte(fmt.Sprintf(`"format":%d`, FormatVersion)), []byte(fmt.Sprintf(`"format":%d`, f)), 1)
	return gz(t, raw)
}

// TestTrailerMismatch: a snapshot whose lines were lost but whose gzip stream
// is intact (a bug, or a hand edit) is refused by the count in the trailer.
func TestTrailerMismatch(t *testing.T) {
	raw := gunzip(t, sample(t, 10))
	lines := bytes.SplitAfter(raw, []byte("\n"))
	dropped := bytes.Join(append(lines[:5:5], lines[6:]...), nil)
	if _, _, err := Validate(bytes.NewReader(gz(t, dropped)), nil); !errors.Is(err, ErrTruncated) {
		t.Fatalf("a snapshot missing one object line: %v, want ErrTruncated", err)
	}
}

// TestWriteRead_BoundedMemory streams 100,000 objects through a writer and a
// reader: the heap in use stays far below what the objects would take.
func TestWriteRead_BoundedMemory(t *testing.T) {
	const n = 100_000
	pr, pw := io.Pipe()
	go func() {
		w, _ := NewWriter(pw, Header{Identity: testIdentity})
		w.AddBucket(Bucket{Name: "docs"})
		for i := range n {
			w.AddObject(&Object{Bucket: "docs", Key: fmt.Sprintf("photos/2026/%08d.jpg", i), Size: 1 << 20,
				SHA256: fmt.Sprintf("%064d", i), ETag: fmt.Sprintf("%032d", i), Metadata: map[string]string{"x-amz-meta-camera": "pi"}})
		}
		pw.CloseWithError(w.Close())
	}()
	r, err := NewReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	count := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if count++; count%10_000 == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if count != n {
		t.Fatalf("read %d objects, want %d", count, n)
	}
	// 100,000 objects of ~250 bytes each would be ~25 MiB.
	if peak > 8<<20 {
		t.Fatalf("heap in use reached %d bytes while streaming %d objects", peak, n)
	}
	t.Logf("peak heap in use while streaming %d objects: %.1f MiB", n, float64(peak)/(1<<20))
}

// TestWriter_RefusesOutOfOrder keeps the invariant restore's merge relies on.
func TestWriter_RefusesOutOfOrder(t *testing.T) {
	w, _ := NewWriter(io.Discard, Header{})
	w.AddObject(&Object{Bucket: "a", Key: "b"})
	if err := w.AddObject(&Object{Bucket: "a", Key: "a"}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("an object out of order: %v", err)
	}
	if err := w.AddBucket(Bucket{Name: "z"}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("a bucket after an object: %v", err)
	}
}
