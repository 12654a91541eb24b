package remoteindex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
)

// TestSnapshotter_CompositeFormat: a snapshot holds objects with a full
// SHA-256 as format 1 (its pointer format 2, as before), so that an older
// IPAS keeps reading it; the first snapshot that holds an object with a
// composite hash is written again as format 3, its pointer format 3, which
// a reader of format 2 refuses (it lists the remote instead of calling the
// object corrupt), and the next snapshots start as format 3. The Writer
// never writes a composite hash under an older header.
func TestSnapshotter_CompositeFormat(t *testing.T) {
	n := openQueue(t)
	ctx := context.Background()
	files := &memFiles{files: map[string][]byte{}}
	s, err := NewSnapshotter(n, files, testIdentity, t.TempDir(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	n.CreateBucket(ctx, "docs", time.Now())
	put := func(key, sha string, parts ...queue.ObjectPart) {
		t.Helper()
		o := queue.Object{Bucket: "docs", Key: key, VersionID: queue.NewVersionID(time.Now()), Size: 1, ETag: "e", SHA256: sha, Parts: parts}
		if len(parts) == 0 {
			o.Blob = sha
		}
		if err := n.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	formats := func() (int, int) {
		t.Helper()
		p := files.pointer(t)
		h, _, err := Validate(bytes.NewReader(files.files[p.Current]), &testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		return h.Format, p.Format
	}
	upload := func() {
		t.Helper()
		if up, err := s.UploadIfChanged(ctx); err != nil || !up {
			t.Fatalf("upload: %v %v", up, err)
		}
		time.Sleep(2 * time.Millisecond) // distinct snapshot names
	}

	full := fmt.Sprintf("%064x", 1)
	put("a-full", full)
	upload()
	if h, p := formats(); h != FormatPlain || p != FormatVersioned {
		t.Fatalf("full SHA-256 only: snapshot format %d, pointer %d; want 1 and 2", h, p)
	}

	part := queue.ObjectPart{Blob: fmt.Sprintf("%064x", 2), Size: 1}
	part0 := queue.ObjectPart{Blob: fmt.Sprintf("%064x", 4), Size: 0}
	put("b-composite", strings.Repeat("ab", 32)+"-2", part, part0)
	upload()
	if h, p := formats(); h != FormatComposite || p != FormatComposite {
		t.Fatalf("with a composite hash: snapshot format %d, pointer %d; want 3 and 3", h, p)
	}
	puts := files.puts
	put("c-full", fmt.Sprintf("%064x", 3))
	upload()
	if h, _ := formats(); h != FormatComposite || files.puts != puts+2 {
		t.Fatalf("next snapshot: format %d, %d puts; want 3, written once (snapshot and pointer)", h, files.puts-puts)
	}

	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Identity: testIdentity})
	if err != nil {
		t.Fatal(err)
	}
	err = w.AddObject(&Object{Bucket: "docs", Key: "k", SHA256: strings.Repeat("ab", 32) + "-2", PartSizes: []int64{1, 1}})
	if !errors.Is(err, ErrFormatTooOld) {
		t.Fatalf("a composite hash under a format 1 header: %v, want ErrFormatTooOld", err)
	}
}
