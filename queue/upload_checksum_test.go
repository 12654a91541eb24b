package queue

import (
	"reflect"
	"testing"
)

// TestUploadChecksumType: the checksum type of an upload is journaled with it,
// survives a restart, and shows in ListUploads.
func TestUploadChecksumType(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	u := Upload{ID: "u1", Bucket: "b", Key: "k", Created: partTime, ChecksumAlgorithm: "CRC32C", ChecksumType: "FULL_OBJECT"}
	if err := n.CreateUpload(ctxT(t), u); err != nil {
		t.Fatal(err)
	}
	closeNode(t, n)
	n = openNode(t, cfg)
	got := mustGetUpload(t, n, "u1")
	if got.ChecksumAlgorithm != "CRC32C" || got.ChecksumType != "FULL_OBJECT" {
		t.Fatalf("after restart: algorithm %q type %q", got.ChecksumAlgorithm, got.ChecksumType)
	}
	list, _, err := n.ListUploads("b", "", "", "", 10)
	if err != nil || len(list) != 1 || list[0].ChecksumType != "FULL_OBJECT" {
		t.Fatalf("ListUploads = %+v, %v", list, err)
	}
}

// TestUploadRecordCompat: a record written before uploads had a checksum type
// decodes with an empty one, and the new field is invisible to the old fields.
func TestUploadRecordCompat(t *testing.T) {
	// The record as the previous version wrote it: fields 1-6 only.
	var e encoder
	e.str(upBucket, "b")
	e.str(upKey, "k")
	e.time(upCreated, partTime)
	e.str(upContentType, "video/mp4")
	e.strMap(upMetadata, map[string]string{"camera": "pi"})
	e.str(upChecksumAlg, "SHA256")
	var old Upload
	if err := decodeUpload(e.b, &old); err != nil {
		t.Fatal(err)
	}
	want := Upload{Bucket: "b", Key: "k", Created: partTime, ContentType: "video/mp4",
		Metadata: map[string]string{"camera": "pi"}, ChecksumAlgorithm: "SHA256"}
	if !reflect.DeepEqual(old, want) {
		t.Fatalf("old record decodes to %+v, want %+v", old, want)
	}
	// A new record carries the type, and round-trips.
	want.ChecksumType = "COMPOSITE"
	var got Upload
	if err := decodeUpload(encodeUpload(&want), &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
}
