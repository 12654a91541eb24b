package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipas/ipas/admin"
)

// TestDropStatus_SkippedDirs: drop-folder directories that are not bucket names
// are named in the daemon's log and in `gateway status`, text and JSON.
func TestDropStatus_SkippedDirs(t *testing.T) {
	dir := t.TempDir()
	drop := filepath.Join(dir, "drop")
	for _, p := range []string{"My Photos/a.jpg", "Photos/b.jpg", "good/d.jpg"} {
		if err := os.MkdirAll(filepath.Join(drop, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(drop, p), []byte(p), 0o644)
	}
	p := startServe(t, adminTestEnv, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0", "--drop", drop+"=*")
	os.MkdirAll(filepath.Join(drop, "UPPER"), 0o755) // after the start: seen by an event
	os.WriteFile(filepath.Join(drop, "UPPER", "c.jpg"), []byte("c"), 0o644)

	st := waitStatus(t, adminClient(p.endpoint), "three skipped directories", func(s admin.Status) bool {
		return len(s.Drop.Skipped) == 3
	})
	var got []string
	for _, d := range st.Drop.Skipped {
		got = append(got, d.Dir+"->"+d.Suggestion)
	}
	if want := "My Photos->my-photos Photos->photos UPPER->upper"; strings.Join(got, " ") != want {
		t.Fatalf("skipped directories %s; want %s", strings.Join(got, " "), want)
	}
	if js := cliStatus(t, adminTestEnv, p.endpoint); len(js.Drop.Skipped) != 3 || js.Drop.Skipped[0].Folder != drop {
		t.Fatalf("gateway status --json: drop %+v; want the three directories of %s", js.Drop, drop)
	}
	out := cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint)
	for _, want := range []string{"Not archived", `"My Photos"`, "my-photos", `"Photos"`, `"UPPER"`, "upper"} {
		if !strings.Contains(out, want) {
			t.Errorf("gateway status does not say %q:\n%s", want, out)
		}
	}
	waitLog(t, p, `"bucket":"good","key":"d.jpg"`)
	for _, d := range []string{"My Photos", "Photos", "UPPER"} {
		waitLog(t, p, `"dir":"`+d+`"`)
	}
	logs := p.stderr.String()
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"dir":"`) && strings.Contains(l, "not a valid bucket name") && !strings.Contains(l, `"level":"warn"`) {
			t.Errorf("a refused directory is logged below WARN: %s", l)
		}
	}
	stopGateway(t, p)
}
