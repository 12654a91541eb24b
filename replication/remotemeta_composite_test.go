package replication_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/replication"
)

// A composite hash is written as layout format 2 and its part sizes are never
// dropped, even with the most runs objecthash.Fits allows, each of the longest
// sizes, next to metadata that overflows S3's 2 KiB by far.
func TestEncodeObjectMeta_CompositeKeepsParts(t *testing.T) {
	var sizes []int64
	for i := range objecthash.MaxRuns {
		n := int64(math.MaxInt64 - i)
		sizes = append(sizes, n, n) // runs of two: "N*2"
	}
	if !objecthash.Fits(sizes) {
		t.Fatal("the test's part list does not fit objecthash.Fits")
	}
	m := fullMeta()
	m.SHA256 = strings.Repeat("cd", 32) + "-64"
	m.PartSizes = sizes
	m.VersionID = strings.Repeat("v", 32)
	m.User = map[string]string{"a": strings.Repeat("x", 1500), "b": strings.Repeat("y", 1500)}
	h, dropped := replication.EncodeObjectMeta(m)
	if slices.Contains(dropped, replication.DroppedParts) {
		t.Fatalf("the part sizes of a composite object were dropped: %v", dropped)
	}
	if n := metaSize(h.Metadata); n > replication.MaxRemoteMetadata {
		t.Fatalf("metadata is %d bytes, over S3's %d", n, replication.MaxRemoteMetadata)
	}
	if h.Metadata[replication.MetaFormatKey] != "2" {
		t.Fatalf("format %q, want 2", h.Metadata[replication.MetaFormatKey])
	}
	got, err := replication.DecodeObjectMeta(h)
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != 2 || got.SHA256 != m.SHA256 || !slices.Equal(got.PartSizes, sizes) {
		t.Fatalf("read back format %d, sha256 %s, %d part sizes", got.Format, got.SHA256, len(got.PartSizes))
	}

	// One piece, or a full SHA-256 over parts: format 1, as before.
	m.SHA256 = strings.Repeat("cd", 32)
	h, _ = replication.EncodeObjectMeta(m)
	if h.Metadata[replication.MetaFormatKey] != "1" {
		t.Fatalf("a full SHA-256 is written as format %q, want 1", h.Metadata[replication.MetaFormatKey])
	}
}

// What an IPAS of layout format 1 does with a format 2 object: it reads the
// format first and refuses, rather than finding "hex-N" a corrupt SHA-256.
func TestDecodeObjectMeta_NewerThanFormat2(t *testing.T) {
	_, err := replication.DecodeObjectMeta(replication.RemoteHeaders{Metadata: map[string]string{
		"ipas-format": "3", "ipas-sha256": strings.Repeat("cd", 32) + "-2"}})
	if !errors.Is(err, replication.ErrUnknownFormat) {
		t.Fatalf("format 3: %v, want ErrUnknownFormat", err)
	}
}
