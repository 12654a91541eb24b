package restore

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/remoteindex"
)

// TestRestoreBringsUsersBack: a snapshot's users come back (without keys),
// and its buckets with their owners and policies.
func TestRestoreBringsUsersBack(t *testing.T) {
	rem := newFakeRemote()
	taken := time.Now().Add(-time.Hour).UTC()
	obj := rem.put("photos/a.jpg", []byte("a photo"), taken.Add(-time.Hour), taken.Add(-time.Hour))
	policy := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`
	var buf bytes.Buffer
	w, err := remoteindex.NewWriter(&buf, remoteindex.Header{Identity: testID, TakenAt: taken, Users: []remoteindex.User{
		{Name: "alice", Role: "user", Quota: 1 << 30, Keys: []remoteindex.Key{{ID: "AKALICE", Access: "write"}}},
		{Name: "bob", Role: "readonly"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.AddBucket(remoteindex.Bucket{Name: "photos", Created: taken, Settings: map[string]string{
		remoteindex.SettingOwner: "alice", remoteindex.SettingPolicy: policy}})
	if err := w.AddObject(&obj); err != nil {
		t.Fatal(err)
	}
	w.Close()
	name := remoteindex.SnapshotName(taken)
	ptr, _ := json.Marshal(remoteindex.Pointer{Format: remoteindex.FormatVersion, Identity: testID, Current: name, TakenAt: taken})
	rem.control[name], rem.control[remoteindex.PointerName] = buf.Bytes(), ptr

	a := openTestArchive(t)
	res, err := a.restorer(rem, &recorder{}, nil).Run(context.Background())
	if err != nil || !res.UsedSnapshot || res.Restored != 1 {
		t.Fatalf("restore: %+v, %v", res, err)
	}
	if strings.Join(res.Users, ",") != "alice,bob" {
		t.Fatalf("users restored %v", res.Users)
	}
	var sum bytes.Buffer
	res.WriteSummary(&sum)
	if !strings.Contains(sum.String(), "gateway key add") {
		t.Fatalf("the summary does not say the users need new keys:\n%s", sum.String())
	}
	d, err := a.node.Directory()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Users) != 2 || d.Users[0].Name != "alice" || d.Users[0].Quota != 1<<30 || d.Users[1].Role != "readonly" || len(d.Keys) != 0 {
		t.Fatalf("users %+v, keys %+v: want alice (with her quota) and bob, no keys", d.Users, d.Keys)
	}
	if len(d.Buckets) != 1 || d.Buckets[0].Owner != "alice" || d.Policies["photos"] != policy {
		t.Fatalf("buckets %+v, policies %v: want photos of alice with its policy", d.Buckets, d.Policies)
	}
}
