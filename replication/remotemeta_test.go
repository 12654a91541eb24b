package replication_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// fullMeta sets every field that travels to the remote.
func fullMeta() replication.ObjectMeta {
	return replication.ObjectMeta{
		Format: replication.MetaFormatFull, SHA256: strings.Repeat("ab", 32), Size: 17<<20 + 5,
		ETag: "0123456789abcdef0123456789abcdef-3", ModTime: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		PartSizes:   []int64{8 << 20, 8 << 20, 5},
		Checksums:   map[string]string{"CRC32C": "AAAAAA==-3", "SHA256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="},
		ContentType: "video/mp4", ContentEncoding: "gzip", ContentDisposition: `attachment; filename="a.mp4"`,
		ContentLanguage: "de-CH", CacheControl: "max-age=60", Expires: "Thu, 01 Dec 2033 16:00:00 GMT",
		WebsiteRedirect: "/elsewhere", Tagging: "project=x&year=2026",
		User: map[string]string{"owner": "alice", "ipas-sha256": "a user key that looks like ours"},
	}
}

func metaSize(md map[string]string) int {
	n := 0
	for k, v := range md {
		n += len(k) + len(v)
	}
	return n
}

func TestObjectMeta_RoundTrip(t *testing.T) {
	plain := replication.ObjectMeta{Format: replication.MetaFormatFull, SHA256: strings.Repeat("0", 64), Size: 3, ETag: "d41d8cd98f00b204e9800998ecf8427e"}
	oddExpires := fullMeta()
	oddExpires.Expires = "0" // S3 would turn it into a date: kept in metadata
	for name, m := range map[string]replication.ObjectMeta{"full": fullMeta(), "plain": plain, "odd expires": oddExpires} {
		t.Run(name, func(t *testing.T) {
			h, dropped := replication.EncodeObjectMeta(m)
			if len(dropped) != 0 {
				t.Fatalf("dropped %v", dropped)
			}
			if h.Metadata[replication.MetaFormatKey] != "1" {
				t.Errorf("format key %q", h.Metadata[replication.MetaFormatKey])
			}
			if m.Expires == "0" && (h.Expires != "" || h.Metadata[replication.MetaExpires] != "0") {
				t.Errorf("odd Expires sent as header %q, metadata %q", h.Expires, h.Metadata[replication.MetaExpires])
			}
			got, err := replication.DecodeObjectMeta(h)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, m)
			}
		})
	}
}

func TestEncodeObjectMeta_Layout(t *testing.T) {
	h, _ := replication.EncodeObjectMeta(fullMeta())
	want := map[string]string{
		"ipas-format":           "1",
		"ipas-sha256":           strings.Repeat("ab", 32),
		"ipas-size":             "17825797",
		"ipas-etag":             "0123456789abcdef0123456789abcdef-3",
		"ipas-mtime":            "2026-03-01T12:00:00.123456789Z",
		"ipas-parts":            "8388608*2,5",
		"ipas-checksum-crc32c":  "COMPOSITE:AAAAAA==-3",
		"ipas-checksum-sha256":  "FULL_OBJECT:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
		"ipas-redirect":         "/elsewhere",
		"ipas-tagging":          "project=x&year=2026",
		"owner":                 "alice",
		"ipas-user-ipas-sha256": "a user key that looks like ours",
	}
	if !reflect.DeepEqual(h.Metadata, want) {
		t.Errorf("metadata:\n got %v\nwant %v", h.Metadata, want)
	}
	if h.ContentType != "video/mp4" || h.ContentEncoding != "gzip" || h.ContentLanguage != "de-CH" ||
		h.CacheControl != "max-age=60" || h.Expires != "Thu, 01 Dec 2033 16:00:00 GMT" || !strings.HasPrefix(h.ContentDisposition, "attachment") {
		t.Errorf("content headers not sent as headers: %+v", h)
	}
}

func TestEncodeObjectMeta_Over2KiB(t *testing.T) {
	irregular := make([]int64, 400)
	for i := range irregular {
		irregular[i] = int64(5<<20 + i)
	}
	big := strings.Repeat("x", 1500)
	for _, c := range []struct {
		name     string
		edit     func(*replication.ObjectMeta)
		dropped  []string
		keptUser []string
	}{
		{"user metadata too large: the largest entries go, the small stay",
			func(m *replication.ObjectMeta) { m.User = map[string]string{"a": big, "b": big, "small": "1"} },
			[]string{replication.DroppedUser}, []string{"small", "a"}},
		{"irregular part sizes too large: parts go, user metadata stays",
			func(m *replication.ObjectMeta) { m.PartSizes = irregular },
			[]string{replication.DroppedParts}, []string{"owner", "ipas-sha256"}},
		{"one huge value: everything optional goes, the essentials stay",
			func(m *replication.ObjectMeta) { m.Tagging = strings.Repeat("t", 3000); m.User = nil },
			[]string{replication.DroppedTagging}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := fullMeta()
			c.edit(&m)
			h, dropped := replication.EncodeObjectMeta(m)
			if !reflect.DeepEqual(dropped, c.dropped) {
				t.Errorf("dropped %v, want %v", dropped, c.dropped)
			}
			if n := metaSize(h.Metadata); n > replication.MaxRemoteMetadata {
				t.Errorf("metadata is %d bytes, over S3's %d", n, replication.MaxRemoteMetadata)
			}
			got, err := replication.DecodeObjectMeta(h)
			if err != nil {
				t.Fatal(err)
			}
			if got.SHA256 != m.SHA256 || got.ETag != m.ETag || got.Size != m.Size || got.Format != replication.MetaFormatFull {
				t.Errorf("an essential field was lost: %+v", got)
			}
			want := append([]string(nil), c.dropped...)
			if !reflect.DeepEqual(got.Dropped, sorted(want)) {
				t.Errorf("read back dropped %v, want %v", got.Dropped, sorted(want))
			}
			for _, k := range c.keptUser {
				if got.User[k] != m.User[k] {
					t.Errorf("user %q not kept: %v", k, got.User)
				}
			}
			if got.Checksums["CRC32C"] != m.Checksums["CRC32C"] || !got.ModTime.Equal(m.ModTime) {
				t.Errorf("checksums or mtime dropped before less important data: %+v", got)
			}
		})
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

func TestPartSizes(t *testing.T) {
	for _, c := range []struct {
		enc   string
		sizes []int64
	}{
		{"8388608*12,1234", append(repeat(8388608, 12), 1234)},
		{"5", []int64{5}},
		{"5,6,5", []int64{5, 6, 5}},
		{"0*2", []int64{0, 0}},
	} {
		if got := replication.EncodePartSizes(c.sizes); got != c.enc {
			t.Errorf("encode %v = %q, want %q", c.sizes, got, c.enc)
		}
		got, err := replication.DecodePartSizes(c.enc)
		if err != nil || !reflect.DeepEqual(got, c.sizes) {
			t.Errorf("decode %q = %v, %v", c.enc, got, err)
		}
	}
	for _, bad := range []string{"x", "5*0", "5*", "-1", "1*10001", "5,,6"} {
		if _, err := replication.DecodePartSizes(bad); err == nil {
			t.Errorf("decode %q: no error", bad)
		}
	}
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestDecodeObjectMeta_Formats(t *testing.T) {
	legacy, err := replication.DecodeObjectMeta(replication.RemoteHeaders{ContentType: "text/plain", Metadata: map[string]string{
		"ipas-sha256": "aa", "ipas-mtime": "2026-03-01T12:00:00Z", "cache-control": "no-cache", "x-amz-meta-owner": "bob",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if legacy.Format != 0 || legacy.SHA256 != "aa" || legacy.CacheControl != "no-cache" || legacy.User["owner"] != "bob" || legacy.Size != -1 {
		t.Errorf("format 0: %+v", legacy)
	}
	newer, err := replication.DecodeObjectMeta(replication.RemoteHeaders{Metadata: map[string]string{"ipas-format": "3", "ipas-sha256": "aa"}})
	if !errors.Is(err, replication.ErrUnknownFormat) || newer.Format != 3 {
		t.Errorf("format 3: %+v, %v", newer, err)
	}
	damaged, err := replication.DecodeObjectMeta(replication.RemoteHeaders{Metadata: map[string]string{
		"ipas-format": "1", "ipas-parts": "nonsense", "ipas-mtime": "yesterday"}})
	if err != nil || !reflect.DeepEqual(damaged.Dropped, []string{replication.DroppedModTime, replication.DroppedParts}) {
		t.Errorf("damaged entries: %+v, %v", damaged, err)
	}
}

// TestMetaFromObject reads the gateway's stored headers and user metadata.
func TestMetaFromObject(t *testing.T) {
	o := queue.Object{
		Size: 13, ETag: "abc-2", SHA256: "ff", ContentType: "text/plain", ModTime: time.Unix(1, 0),
		Parts:     []queue.ObjectPart{{Blob: "1", Size: 8}, {Blob: "2", Size: 5}},
		Checksums: map[string]string{"CRC32": "AAAAAA==-2"},
		Metadata: map[string]string{"Cache-Control": "no-store", "Content-Disposition": "inline", "Content-Encoding": "br",
			"Content-Language": "fr", "Expires": "soon", "X-Amz-Website-Redirect-Location": "/x", "X-Amz-Tagging": "a=b",
			"x-amz-meta-owner": "carol"},
	}
	got := replication.MetaFromObject(&o)
	want := replication.ObjectMeta{Format: 1, SHA256: "ff", Size: 13, ETag: "abc-2", ModTime: time.Unix(1, 0),
		PartSizes: []int64{8, 5}, Checksums: map[string]string{"CRC32": "AAAAAA==-2"}, ContentType: "text/plain",
		ContentEncoding: "br", ContentDisposition: "inline", ContentLanguage: "fr", CacheControl: "no-store", Expires: "soon",
		WebsiteRedirect: "/x", Tagging: "a=b", User: map[string]string{"owner": "carol"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestObjectFromMeta_Inverse: an object version sent to the remote and read
// back (MetaFromObject, the remote's headers, DecodeObjectMeta,
// ObjectFromMeta) comes back as it was, without its blobs: every field a
// client sees, and the part sizes.
func TestObjectFromMeta_Inverse(t *testing.T) {
	multipart := queue.Object{
		Bucket: "docs", Key: "video.mp4", Size: 13, ETag: "0123456789abcdef0123456789abcdef-2", SHA256: strings.Repeat("ab", 32),
		ContentType: "video/mp4", ModTime: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		Parts:     []queue.ObjectPart{{Blob: strings.Repeat("1", 64), Size: 8}, {Blob: strings.Repeat("2", 64), Size: 5}},
		Checksums: map[string]string{"CRC32": "AAAAAA==-2"},
		Metadata: map[string]string{"Cache-Control": "no-store", "Content-Disposition": "inline", "Content-Encoding": "br",
			"Content-Language": "fr", "Expires": "Thu, 01 Dec 2033 16:00:00 GMT", "X-Amz-Website-Redirect-Location": "/x",
			"X-Amz-Tagging": "a=b", "x-amz-meta-owner": "carol", "x-amz-meta-camera": "pi 5"},
	}
	single := queue.Object{
		Bucket: "docs", Key: "a b/tax.txt", Size: 3, ETag: "d41d8cd98f00b204e9800998ecf8427e", SHA256: strings.Repeat("cd", 32),
		Blob: strings.Repeat("cd", 32), ModTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	for name, o := range map[string]queue.Object{"multipart": multipart, "single": single} {
		t.Run(name, func(t *testing.T) {
			h, dropped := replication.EncodeObjectMeta(replication.MetaFromObject(&o))
			if len(dropped) != 0 {
				t.Fatalf("dropped %v", dropped)
			}
			m, err := replication.DecodeObjectMeta(h)
			if err != nil {
				t.Fatal(err)
			}
			got := replication.ObjectFromMeta(o.Bucket, o.Key, m, o.Size)
			want := o
			want.Blob = ""
			want.Parts = nil
			for _, p := range o.Parts {
				want.Parts = append(want.Parts, queue.ObjectPart{Size: p.Size})
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	// Metadata of format 0 did not record the size: the remote's stands in.
	if got := replication.ObjectFromMeta("b", "k", replication.ObjectMeta{Size: -1}, 42); got.Size != 42 {
		t.Errorf("size without metadata: %d, want the remote's 42", got.Size)
	}
}
