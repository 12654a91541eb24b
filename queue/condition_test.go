package queue

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestConditionalPut: a condition is judged when the put is applied, against
// the key's current version; a failed one changes nothing and takes no
// reference, and a retry of a conditional put that went through succeeds.
func TestConditionalPut(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	v1 := testObject("b", "k", "one")
	v1.ETag = "11111111111111111111111111111111"
	if err := n.PutObjectIf(ctx, v1, nil, Condition{IfMatch: []string{"*"}}); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("If-Match on a missing key: %v, want ErrNoSuchKey", err)
	}
	if err := n.PutObjectIf(ctx, v1, nil, Condition{IfNoneMatch: true}); err != nil {
		t.Fatalf("If-None-Match on a missing key: %v", err)
	}
	if err := n.PutObjectIf(ctx, v1, nil, Condition{IfNoneMatch: true}); err != nil {
		t.Fatalf("a retry of the If-None-Match put that went through: %v", err)
	}
	v2 := testObject("b", "k", "two")
	v2.ETag = "22222222222222222222222222222222"
	if err := n.PutObjectIf(ctx, v2, nil, Condition{IfNoneMatch: true}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-None-Match on an existing key: %v, want ErrPreconditionFailed", err)
	}
	if err := n.PutObjectIf(ctx, v2, nil, Condition{IfMatch: []string{"nope", v2.ETag}}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-Match with another ETag: %v, want ErrPreconditionFailed", err)
	}
	if referenced(t, n, v2.Blob) {
		t.Fatal("a put whose condition failed holds a blob reference")
	}
	if got, _ := n.Object("b", "k"); got.VersionID != v1.VersionID {
		t.Fatalf("current version %s, want %s", got.VersionID, v1.VersionID)
	}
	if err := n.PutObjectIf(ctx, v2, nil, Condition{IfMatch: []string{"nope", v1.ETag}}); err != nil {
		t.Fatalf("If-Match naming the current ETag: %v", err)
	}
	if got, _ := n.Object("b", "k"); got.VersionID != v2.VersionID {
		t.Fatalf("current version %s, want %s", got.VersionID, v2.VersionID)
	}

	// CompleteUploadIf: a failed condition leaves the upload as it was.
	mustUpload(t, n, "b", "k", "u1")
	p1 := testPart(1, "part")
	mustPart(t, n, "u1", p1)
	o := composite("b", "k", p1)
	if err := n.CompleteUploadIf(ctx, "u1", o, Condition{IfNoneMatch: true}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("complete with If-None-Match on an existing key: %v", err)
	}
	if _, err := n.Upload("u1"); err != nil {
		t.Fatalf("the upload is gone after a failed conditional complete: %v", err)
	}
	if err := n.CompleteUploadIf(ctx, "u1", o, Condition{IfMatch: []string{v2.ETag}}); err != nil {
		t.Fatalf("complete with If-Match naming the current ETag: %v", err)
	}
	if err := n.CompleteUploadIf(ctx, "u1", o, Condition{IfMatch: []string{v2.ETag}}); err != nil {
		t.Fatalf("a retry of the conditional complete that went through: %v", err)
	}

	if err := n.PutObjectIf(ctx, testObject("b", "x", "x"), nil, Condition{IfNoneMatch: true, IfMatch: []string{"*"}}); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("both conditions: %v, want ErrInvalidCommand", err)
	}
}

// TestConditionEncoding: a condition survives the log, and a command written
// before conditions existed decodes to one that always holds.
func TestConditionEncoding(t *testing.T) {
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for _, cond := range []Condition{{}, {IfNoneMatch: true}, {IfMatch: []string{"*"}}, {IfMatch: []string{"a", "b-2"}}} {
		c := command{Op: opObjectPut, Time: at, Bucket: "b", Key: "k", Object: testObject("b", "k", "x"), Cond: cond}
		var got command
		if err := decodeCommand(c.encode(), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Cond, cond) {
			t.Fatalf("condition %+v decoded as %+v", cond, got.Cond)
		}
	}
	// An ObjectPut and an UploadComplete as the version before conditions
	// encoded them: they decode with a condition that always holds, and an
	// unconditional command still encodes to the same bytes.
	for _, h := range []string{
		"0803108080b0dfba96f3e9311a016222016b325e0a1a30314b414a32563030303030303030303030303030303030303012202d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881180222109dd4e461268c8034f5c8564e155c67a64001608080b0dfba96f3e931",
		"0809108080b0dfba96f3e9311a016222016b2a027531325e0a1a30314b414a32563030303030303030303030303030303030303012202d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881180222109dd4e461268c8034f5c8564e155c67a64001608080b0dfba96f3e931",
	} {
		old, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		var got command
		if err := decodeCommand(old, &got); err != nil {
			t.Fatalf("decode an old %s: %v", got.Op, err)
		}
		if !got.Cond.IsZero() || got.Key != "k" || got.Object.Size != 1 {
			t.Fatalf("an old %s decoded as %+v", got.Op, got)
		}
		if err := got.validate(); err != nil {
			t.Fatalf("an old %s does not validate: %v", got.Op, err)
		}
		again := command{Op: got.Op, Time: got.Time, Bucket: "b", Key: "k", ID: got.ID, Object: Object{
			VersionID: got.Object.VersionID, Blob: got.Object.Blob, SHA256: got.Object.Blob, Size: 1,
			ETag: "9dd4e461268c8034f5c8564e155c67a6", ModTime: got.Object.ModTime}}
		if enc := again.encode(); !bytes.Equal(enc, old) {
			t.Fatalf("an unconditional %s encodes as\n%x\nnot as before\n%x", got.Op, enc, old)
		}
	}
}
