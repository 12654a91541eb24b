package remotetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/replication"
)

// PageSize is the listing page size Run asks its factory for, so that a
// listing of a few objects spans several pages.
const PageSize = 3

// minPart is the smallest non-final part S3 accepts.
const minPart = 5 << 20

// Run is the contract suite of replication.Remote. open returns a Remote
// over an empty remote prefix whose listings return at most pageSize
// entries per request.
func Run(t *testing.T, open func(t *testing.T, pageSize int) replication.Remote) {
	r := open(t, PageSize)
	t.Run("SinglePutRoundTrip", func(t *testing.T) { singlePut(t, r) })
	t.Run("MultipartRoundTrip", func(t *testing.T) { multipart(t, r) })
	t.Run("ListPages", func(t *testing.T) { listPages(t, r) })
	t.Run("Missing", func(t *testing.T) { missing(t, r) })
	t.Run("MetadataOver2KiB", func(t *testing.T) { over2KiB(t, r) })
	t.Run("ControlFiles", func(t *testing.T) { controlFiles(t, r) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Meta is an object's metadata with every field set, as the gateway would
// have stored it for a multipart upload with a composite CRC32C.
func Meta(data []byte, partSizes ...int64) replication.ObjectMeta {
	sum := sha256.Sum256(data)
	return replication.ObjectMeta{
		Format: replication.MetaFormatFull, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		ETag: "9b2cf535f27731c974343645a3985328-" + fmt.Sprint(max(1, len(partSizes))), ModTime: time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC),
		PartSizes: partSizes, Checksums: map[string]string{"CRC32C": "yZRlqg==-2"},
		ContentType: "video/mp4", ContentEncoding: "identity", ContentDisposition: `attachment; filename="film.mp4"`,
		ContentLanguage: "en-GB", CacheControl: "max-age=3600", Expires: "Thu, 01 Dec 2033 16:00:00 GMT",
		WebsiteRedirect: "/other", Tagging: "project=film",
		User: map[string]string{"owner": "alice", "camera": "pi", "ipas-sha256": "user data, not ours"},
	}
}

// Bytes returns n reproducible random bytes.
func Bytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, ^seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, r replication.Remote, name string, data []byte, meta replication.ObjectMeta) {
	t.Helper()
	sum := md5.Sum(data)
	c, err := r.PutObject(ctxT(t), name, bytes.NewReader(data), int64(len(data)), sum[:], meta)
	etag := c.ETag
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	// Reconcile compares a LIST's ETags with the one PutObject returned.
	if h, err := r.HeadObject(ctxT(t), name); err != nil || h.ETag != etag || etag == "" {
		t.Fatalf("put %s: PutObject returned ETag %q, HEAD says %q (%v)", name, etag, h.ETag, err)
	}
}

// checkObject asserts what HEAD and a whole GET return for name.
func checkObject(t *testing.T, r replication.Remote, name string, data []byte, meta replication.ObjectMeta) {
	t.Helper()
	h, err := r.HeadObject(ctxT(t), name)
	if err != nil {
		t.Fatalf("head %s: %v", name, err)
	}
	if h.Size != int64(len(data)) || h.ETag == "" || h.LastModified.IsZero() {
		t.Errorf("head %s: size %d etag %q time %v, want %d bytes", name, h.Size, h.ETag, h.LastModified, len(data))
	}
	if !reflect.DeepEqual(h.Meta, meta) {
		t.Errorf("head %s metadata:\n got %+v\nwant %+v", name, h.Meta, meta)
	}
	checkRange(t, r, name, data, 0, -1)
}

// checkRange asserts that GetObject(off, length) returns exactly those bytes.
func checkRange(t *testing.T, r replication.Remote, name string, data []byte, off, length int64) {
	t.Helper()
	rc, obj, err := r.GetObject(ctxT(t), name, off, length)
	if err != nil {
		t.Fatalf("get %s [%d,+%d): %v", name, off, length, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s [%d,+%d): %v", name, off, length, err)
	}
	end := int64(len(data))
	if length >= 0 {
		end = off + length
	}
	if !bytes.Equal(got, data[off:end]) {
		t.Errorf("get %s [%d,+%d): %d bytes, not the %d stored there", name, off, length, len(got), end-off)
	}
	if obj.Size != int64(len(data)) || obj.Meta.SHA256 == "" {
		t.Errorf("get %s [%d,+%d): object size %d sha256 %q, want the whole object's %d", name, off, length, obj.Size, obj.Meta.SHA256, len(data))
	}
}

func singlePut(t *testing.T, r replication.Remote) {
	data := Bytes(100_000, 1)
	meta := Meta(data, 60_000, 40_000)
	put(t, r, "single/docs/a b+ü.bin", data, meta)
	checkObject(t, r, "single/docs/a b+ü.bin", data, meta)
	for _, rg := range [][2]int64{{0, 1}, {59_999, 2}, {99_999, 1}, {12_345, -1}, {500, 0}} {
		checkRange(t, r, "single/docs/a b+ü.bin", data, rg[0], rg[1])
	}
	// Overwriting replaces the metadata too: nothing of the old one remains.
	plain := replication.ObjectMeta{Format: replication.MetaFormatFull, SHA256: Meta(data).SHA256, Size: int64(len(data)), ETag: "abc"}
	put(t, r, "single/docs/a b+ü.bin", data, plain)
	h, err := r.HeadObject(ctxT(t), "single/docs/a b+ü.bin")
	if err != nil {
		t.Fatal(err)
	}
	if h.Meta.ETag != "abc" || h.Meta.User != nil || h.Meta.Checksums != nil || h.Meta.CacheControl != "" {
		t.Errorf("overwritten object keeps old metadata: %+v", h.Meta)
	}
}

func multipart(t *testing.T, r replication.Remote) {
	const name = "multi/videos/film.mp4"
	data := Bytes(minPart+123_457, 2)
	meta := Meta(data, 2<<20, 2<<20, int64(len(data))-(4<<20)) // the client's parts, not ours
	ctx := ctxT(t)
	id, err := r.CreateMultipartUpload(ctx, name, meta)
	if err != nil {
		t.Fatal(err)
	}
	var parts []replication.Part
	for i, chunk := range [][]byte{data[:minPart], data[minPart:]} {
		sum := md5.Sum(chunk)
		etag, err := r.UploadPart(ctx, name, id, i+1, bytes.NewReader(chunk), int64(len(chunk)), sum[:])
		if err != nil {
			t.Fatalf("upload part %d: %v", i+1, err)
		}
		parts = append(parts, replication.Part{Number: i + 1, ETag: etag, Size: int64(len(chunk))})
	}
	if err := r.CompleteMultipartUpload(ctx, name, id, parts); err != nil {
		t.Fatal(err)
	}
	checkObject(t, r, name, data, meta)
	for _, rg := range [][2]int64{{minPart - 10, 20}, {minPart, -1}, {0, minPart}} {
		checkRange(t, r, name, data, rg[0], rg[1])
	}
}

func listPages(t *testing.T, r replication.Remote) {
	want := map[string]int64{}
	for i := range 2*PageSize + 1 {
		name := fmt.Sprintf("list/k%02d", i)
		data := Bytes(100+i, uint64(i))
		put(t, r, name, data, Meta(data))
		want[name] = int64(len(data))
	}
	put(t, r, "listother/x", []byte("x"), Meta([]byte("x")))
	if err := r.PutControlFile(ctxT(t), "list-snapshot", strings.NewReader("s"), 1, md5sum("s")); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var pages []int
	var last string
	st, err := r.ListObjects(ctxT(t), replication.ListOptions{Prefix: "list/"}, func(page []replication.ListedObject) error {
		pages = append(pages, len(page))
		for _, o := range page {
			if o.Name <= last {
				t.Errorf("listing out of order: %q after %q", o.Name, last)
			}
			last = o.Name
			got[o.Name] = o.Size
			h, err := r.HeadObject(ctxT(t), o.Name)
			if err != nil || h.ETag != o.ETag || h.Size != o.Size || o.LastModified.IsZero() {
				t.Errorf("listed %+v, head says %+v (%v)", o, h, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	if !reflect.DeepEqual(pages, []int{PageSize, PageSize, 1}) || st.Requests != 3 || st.Objects != len(want) {
		t.Errorf("pages %v, stats %+v: want pages of %d, one request each", pages, st, PageSize)
	}
	// Resume after a name; a callback error stops the listing.
	stop := errors.New("stop")
	var resumed []string
	_, err = r.ListObjects(ctxT(t), replication.ListOptions{Prefix: "list/", StartAfter: "list/k04"}, func(page []replication.ListedObject) error {
		for _, o := range page {
			resumed = append(resumed, o.Name)
		}
		return stop
	})
	if !errors.Is(err, stop) || !reflect.DeepEqual(resumed, []string{"list/k05", "list/k06"}) {
		t.Errorf("resumed listing %v, %v", resumed, err)
	}
	// The whole prefix holds every object, never a control file.
	_, err = r.ListObjects(ctxT(t), replication.ListOptions{}, func(page []replication.ListedObject) error {
		for _, o := range page {
			if strings.HasPrefix(o.Name, ".") {
				t.Errorf("control file listed as an object: %s", o.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func missing(t *testing.T, r replication.Remote) {
	if _, err := r.HeadObject(ctxT(t), "missing/nothing"); !errors.Is(err, replication.ErrNotFound) {
		t.Errorf("head of a missing name: %v, want ErrNotFound", err)
	}
	if _, _, err := r.GetObject(ctxT(t), "missing/nothing", 0, -1); !errors.Is(err, replication.ErrNotFound) {
		t.Errorf("get of a missing name: %v, want ErrNotFound", err)
	}
	if _, _, err := r.GetObject(ctxT(t), "missing/nothing", 10, 5); !errors.Is(err, replication.ErrNotFound) {
		t.Errorf("ranged get of a missing name: %v, want ErrNotFound", err)
	}
	if _, _, err := r.GetControlFile(ctxT(t), "no-such-snapshot"); !errors.Is(err, replication.ErrNotFound) {
		t.Errorf("get of a missing control file: %v, want ErrNotFound", err)
	}
	if err := r.DeleteObject(ctxT(t), "missing/nothing"); err != nil {
		t.Errorf("delete of a missing name: %v", err)
	}
	n := 0
	st, err := r.ListObjects(ctxT(t), replication.ListOptions{Prefix: "missing/"}, func(p []replication.ListedObject) error { n += len(p); return nil })
	if err != nil || n != 0 || st.Requests != 1 {
		t.Errorf("listing an empty prefix: %d objects, %+v, %v", n, st, err)
	}
}

func over2KiB(t *testing.T, r replication.Remote) {
	data := []byte("small object, large metadata")
	meta := Meta(data)
	meta.User = map[string]string{"small": "kept", "big1": strings.Repeat("a", 1200), "big2": strings.Repeat("b", 1200)}
	put(t, r, "meta/big", data, meta)
	h, err := r.HeadObject(ctxT(t), "meta/big")
	if err != nil {
		t.Fatal(err)
	}
	m := h.Meta
	if m.SHA256 != meta.SHA256 || m.ETag != meta.ETag || m.Size != meta.Size || m.Format != replication.MetaFormatFull {
		t.Errorf("an essential field was dropped: %+v", m)
	}
	if !reflect.DeepEqual(m.Dropped, []string{replication.DroppedUser}) || m.User["small"] != "kept" || len(m.User) != 2 {
		t.Errorf("dropped %v, user %d entries: want only one large user entry dropped, and said so", m.Dropped, len(m.User))
	}
	if m.Checksums["CRC32C"] != meta.Checksums["CRC32C"] || m.CacheControl != meta.CacheControl {
		t.Errorf("checksums or headers lost to user metadata: %+v", m)
	}
}

func controlFiles(t *testing.T, r replication.Remote) {
	body := Bytes(70_000, 3)
	if err := r.PutControlFile(ctxT(t), "index/snapshot-1.zst", bytes.NewReader(body), int64(len(body)), md5sum(string(body))); err != nil {
		t.Fatal(err)
	}
	rc, obj, err := r.GetControlFile(ctxT(t), "index/snapshot-1.zst")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, body) || obj.Size != int64(len(body)) {
		t.Errorf("control file: %d bytes (size %d), %v; want the %d put", len(got), obj.Size, err, len(body))
	}
	for _, bad := range []string{"", "../escape", "/abs", "dir/"} {
		if err := r.PutControlFile(ctxT(t), bad, strings.NewReader(""), 0, md5sum("")); err == nil {
			t.Errorf("control file name %q accepted", bad)
		}
	}
	if err := r.DeleteControlFile(ctxT(t), "index/snapshot-1.zst"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.GetControlFile(ctxT(t), "index/snapshot-1.zst"); !errors.Is(err, replication.ErrNotFound) {
		t.Errorf("deleted control file: %v, want ErrNotFound", err)
	}
}

func md5sum(s string) []byte {
	sum := md5.Sum([]byte(s))
	return sum[:]
}
