package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// TestVerifyObject_Composite: `gateway verify` proves a multipart object's
// composite hash against its part blobs' names, and names an index entry
// whose parts do not make it (parts swapped, one part too few).
func TestVerifyObject_Composite(t *testing.T) {
	ctx := context.Background()
	st := store.New(t.TempDir(), zerolog.Nop())
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	var parts []queue.ObjectPart
	var digests [][sha256.Size]byte
	var size int64
	for _, body := range []string{"first part ", "second part", "end"} {
		b, err := st.Put(ctx, bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, queue.ObjectPart{Blob: b.Digest.String(), Size: b.Size})
		digests = append(digests, b.Digest)
		size += b.Size
	}
	o := queue.Object{Bucket: "docs", Key: "k", Size: size, Parts: parts, SHA256: objecthash.Composite(digests).String()}
	if err := verifyObject(ctx, st, o); err != nil {
		t.Fatalf("a sound composite object: %v", err)
	}
	swapped := o
	swapped.Parts = []queue.ObjectPart{parts[1], parts[0], parts[2]}
	if err := verifyObject(ctx, st, swapped); err == nil || !strings.Contains(err.Error(), "composite sha256") {
		t.Fatalf("parts swapped: %v", err)
	}
	short := o
	short.Parts, short.Size = parts[:2], size-parts[2].Size
	if err := verifyObject(ctx, st, short); err == nil || !strings.Contains(err.Error(), "composite sha256") {
		t.Fatalf("a part missing: %v", err)
	}
}
