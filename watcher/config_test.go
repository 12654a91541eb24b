package watcher

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDropFlag(t *testing.T) {
	for _, tc := range []struct {
		in             string
		path, bkt, pre string
		err            string
	}{
		{in: "/srv/scans=scans", path: "/srv/scans", bkt: "scans"},
		{in: "/srv/scans=scans/office/2024/", path: "/srv/scans", bkt: "scans", pre: "office/2024"},
		{in: "/srv/a=b=c=photos", path: "/srv/a=b=c", bkt: "photos"},
		{in: "/srv/drop=*", path: "/srv/drop", bkt: ""},
		{in: "/srv/scans", err: "missing '='"},
		{in: "=scans", err: "directory is empty"},
		{in: "/srv/x=", err: "bucket is empty"},
		{in: "/srv/x=Bad_Bucket", err: "invalid bucket name"},
	} {
		f, err := ParseDropFlag(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%q: err %v; want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || f.Path != tc.path || f.Bucket != tc.bkt || f.Prefix != tc.pre {
			t.Errorf("%q: got %q %q %q, %v", tc.in, f.Path, f.Bucket, f.Prefix, err)
		}
		if f.QuietWindow != DefaultQuietWindow || f.AfterIngest != AfterIngestKeep || f.OnDelete != OnDeleteKeep {
			t.Errorf("%q: defaults not set: %+v", tc.in, f)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := func() Folder { f := DefaultFolder(); f.Path, f.Bucket = "/srv/drop", "backup"; return f }
	for _, tc := range []struct {
		name   string
		mutate func(c *Config)
		field  string
	}{
		{"workers", func(c *Config) { c.Workers = 0 }, "drop.workers"},
		{"path", func(c *Config) { c.Folders[0].Path = "" }, "drop.folders[0].path"},
		{"bucket", func(c *Config) { c.Folders[0].Bucket = "UPPER" }, "drop.folders[0].bucket"},
		{"glob", func(c *Config) { c.Folders[0].Exclude = []string{"[a"} }, "drop.folders[0].exclude[0]"},
		{"after_ingest", func(c *Config) { c.Folders[0].AfterIngest = "archive" }, "drop.folders[0].after_ingest"},
		{"move without done_dir", func(c *Config) { c.Folders[0].AfterIngest = AfterIngestMove }, "drop.folders[0].done_dir"},
		{"done_dir inside", func(c *Config) {
			c.Folders[0].AfterIngest, c.Folders[0].DoneDir = AfterIngestMove, "/srv/drop/done"
		}, "drop.folders[0].done_dir"},
		{"on_delete", func(c *Config) { c.Folders[0].OnDelete = "purge" }, "drop.folders[0].on_delete"},
		{"on_delete with after_ingest", func(c *Config) {
			c.Folders[0].OnDelete, c.Folders[0].AfterIngest = OnDeleteDelete, AfterIngestDelete
		}, "drop.folders[0].on_delete"},
		{"quiet_window", func(c *Config) { c.Folders[0].QuietWindow = time.Millisecond }, "drop.folders[0].quiet_window"},
		{"reconcile_interval", func(c *Config) { c.Folders[0].ReconcileInterval = time.Millisecond }, "drop.folders[0].reconcile_interval"},
		{"overlap", func(c *Config) {
			f := ok()
			f.Path = "/srv/drop/inner"
			c.Folders = append(c.Folders, f)
		}, "drop.folders[1].path"},
	} {
		c := Config{Workers: 1, Folders: []Folder{ok()}}
		if err := c.Validate(); err != nil {
			t.Fatalf("valid config: %v", err)
		}
		tc.mutate(&c)
		err := c.Validate()
		if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field+":") {
			t.Errorf("%s: err %v; want one naming %s", tc.name, err, tc.field)
		}
	}
}

// TestYAML decodes the documented keys and fills defaults afterwards.
func TestYAML(t *testing.T) {
	src := `
workers: 2
folders:
  - path: /srv/scans
    bucket: scans
    prefix: office
    include: ["*.pdf"]
    exclude: ["drafts"]
    after_ingest: move
    done_dir: /srv/scans-done
    quiet_window: 5s
  - path: /srv/photos
    bucket: photos
    on_delete: delete
    reconcile_interval: 10m
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a, b := c.Folders[0], c.Folders[1]
	if a.QuietWindow != 5*time.Second || a.ReconcileInterval != DefaultReconcileInterval || a.OnDelete != OnDeleteKeep ||
		a.DoneDir != "/srv/scans-done" || a.Prefix != "office" || a.Include[0] != "*.pdf" {
		t.Errorf("folder 0 = %+v", a)
	}
	if b.QuietWindow != DefaultQuietWindow || b.ReconcileInterval != 10*time.Minute || b.AfterIngest != AfterIngestKeep || b.OnDelete != OnDeleteDelete {
		t.Errorf("folder 1 = %+v", b)
	}
}

func TestFilter(t *testing.T) {
	f := newFilter(Folder{Include: []string{"*.jpg", "docs/*.pdf"}, Exclude: []string{"cache", "*.log"}})
	for rel, want := range map[string]bool{
		"a.jpg": true, "x/y/a.jpg": true, "docs/a.pdf": true, "other/a.pdf": false, "a.png": false,
		"cache/a.jpg": false, "x/cache/a.jpg": false, "x/a.jpg.part": false, "x/._a.jpg": false, "a.log": false,
	} {
		if got := f.admitsPath(rel); got != want {
			t.Errorf("%s: admitted %v, want %v", rel, got, want)
		}
	}
}

func TestRecordCodec(t *testing.T) {
	r := record{Size: 1 << 40, MtimeNs: -5, Ino: 42, VersionID: "01ABC", Bucket: "b", Key: "k/é"}
	r.SHA256[3] = 7
	got, err := decodeRecord(r.encode())
	if err != nil || got != r {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if _, err := decodeRecord(r.encode()[:10]); err == nil {
		t.Fatal("truncated record decoded")
	}
	if recordRel(recordKey("a/b/c")) != "a/b/c" {
		t.Fatal("key round trip")
	}
}
