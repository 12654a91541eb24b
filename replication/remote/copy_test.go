package remote_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
	"github.com/rs/zerolog"
)

// TestCopyObject: a server-side copy against real versitygw, in one
// CopyObject and, above the single-copy limit (here 1 MiB instead of
// 5 GiB), in UploadPartCopy ranges: the copy has the bytes and the
// metadata of the source; a source whose ETag is no longer the one given
// is not copied (ErrCopySourceChanged) and the destination is untouched.
func TestCopyObject(t *testing.T) {
	gw := testutil.StartVersityGW(t, "replica")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := remote.DefaultConfig()
	cfg.Endpoint, cfg.Bucket, cfg.Prefix, cfg.PathStyle = gw.Endpoint, "replica", "pi1", true
	cfg.AccessKey, cfg.SecretKey = gw.AccessKey, gw.SecretKey
	cl, err := remote.New(ctx, cfg, zerolog.Nop(), remote.WithCopyLimits(1<<20, 5<<20))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{300 << 10, 7 << 20} {
		data := testutil.Content(size, size)
		sum, sha := md5.Sum(data), sha256.Sum256(data)
		meta := replication.ObjectMeta{SHA256: hex.EncodeToString(sha[:]), Size: int64(size), ContentType: "image/jpeg",
			User: map[string]string{"album": "summer"}, VersionID: "v1"}
		src := ".ipas/versions/photos/a.jpg/v1"
		put, err := cl.PutObject(ctx, src, bytes.NewReader(data), int64(size), sum[:], meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.CopyObject(ctx, src, "", "0123456789abcdef0123456789abcdef", "photos/a.jpg", int64(size), meta); !errors.Is(err, replication.ErrCopySourceChanged) {
			t.Errorf("%d bytes: copy of a changed source: %v, want ErrCopySourceChanged", size, err)
		}
		if _, err := cl.HeadObject(ctx, "photos/a.jpg"); !errors.Is(err, replication.ErrNotFound) {
			t.Errorf("%d bytes: the refused copy left something: %v", size, err)
		}
		if _, err := cl.CopyObject(ctx, src, "", put.ETag, "photos/a.jpg", int64(size), meta); err != nil {
			t.Fatalf("%d bytes: copy: %v", size, err)
		}
		rc, obj, err := cl.GetObject(ctx, "photos/a.jpg", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: the copy has %d bytes (%v), not the source's", size, len(got), err)
		}
		if obj.Meta.SHA256 != meta.SHA256 || obj.Meta.ContentType != "image/jpeg" || obj.Meta.User["album"] != "summer" || obj.Meta.VersionID != "v1" {
			t.Errorf("%d bytes: the copy's metadata %+v, want the source's", size, obj.Meta)
		}
		if err := cl.DeleteObject(ctx, "photos/a.jpg"); err != nil {
			t.Fatal(err)
		}
	}
}
