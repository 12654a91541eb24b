package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ipas/ipas/admin"
)

// TestStatusShowsVersions: status names the noncurrent versions a versioned
// bucket keeps, and says nothing of them when there are none.
func TestStatusShowsVersions(t *testing.T) {
	var out bytes.Buffer
	printStatus(&out, admin.Status{Journal: admin.Journal{Buckets: 1, Objects: 2, Versions: 3, VersionBytes: 2048}})
	if !strings.Contains(out.String(), "3 noncurrent versions and delete markers, 2.0 KiB") {
		t.Fatalf("status lacks the versions:\n%s", out.String())
	}
	out.Reset()
	printStatus(&out, admin.Status{Journal: admin.Journal{Buckets: 1, Objects: 2}})
	if strings.Contains(out.String(), "Versions") {
		t.Fatalf("status names versions where there are none:\n%s", out.String())
	}
}
