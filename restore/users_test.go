package restore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	putUsersSnapshot(t, rem, remoteindex.Header{Identity: testID, TakenAt: taken, Users: []remoteindex.User{
		{Name: "alice", Role: "user", Quota: 1 << 30, Keys: []remoteindex.Key{{ID: "AKALICE", Access: "write"}}},
		{Name: "bob", Role: "readonly"},
	}}, remoteindex.Bucket{Name: "photos", Created: taken, Settings: map[string]string{
		remoteindex.SettingOwner: "alice", remoteindex.SettingPolicy: policy}}, obj)

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

// putUsersSnapshot stores a snapshot of h with one bucket and object as the
// remote's current one.
func putUsersSnapshot(t *testing.T, rem *fakeRemote, h remoteindex.Header, b remoteindex.Bucket, obj remoteindex.Object) {
	t.Helper()
	var buf bytes.Buffer
	w, err := remoteindex.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	w.AddBucket(b)
	if err := w.AddObject(&obj); err != nil {
		t.Fatal(err)
	}
	w.Close()
	name := remoteindex.SnapshotName(h.TakenAt)
	ptr, _ := json.Marshal(remoteindex.Pointer{Format: remoteindex.FormatVersion, Identity: testID, Current: name, TakenAt: h.TakenAt})
	rem.control[name], rem.control[remoteindex.PointerName] = buf.Bytes(), ptr
}

// TestRestoreKeys: the access keys of a snapshot come back only when it
// carries their secrets and Options.Secrets opens them; otherwise the users
// come back without keys and KeysNote says why. A damaged secret is counted,
// never journaled.
func TestRestoreKeys(t *testing.T) {
	seal := &remoteindex.SecretSeal{KDF: "test", Check: []byte("ok")}
	// reseal stands for the passphrase: "sealed:" + secret opens.
	opener := func(s remoteindex.SecretSeal) (func(string, []byte) ([]byte, error), error) {
		if string(s.Check) != "ok" {
			return nil, errors.New("the passphrase does not open the sealed secrets")
		}
		return func(id string, sealed []byte) ([]byte, error) {
			secret, ok := strings.CutPrefix(string(sealed), "sealed:")
			if !ok {
				return nil, errors.New("damaged")
			}
			return []byte("resealed:" + id + ":" + secret), nil
		}, nil
	}
	keys := []remoteindex.Key{{ID: "AKFULL", Secret: []byte("sealed:s1")}, {ID: "AKLAPTOP", Access: "write", Scopes: []string{"photos/laptop/"}, Secret: []byte("sealed:s2")},
		{ID: "AKDAMAGED", Secret: []byte("garbage")}}
	for _, c := range []struct {
		name    string
		seal    *remoteindex.SecretSeal
		secrets func(remoteindex.SecretSeal) (func(string, []byte) ([]byte, error), error)
		keys    int
		note    string
	}{
		{"sealed, opened", seal, opener, 2, "1 access key(s) not restored: their sealed secret is damaged"},
		{"sealed, wrong passphrase", &remoteindex.SecretSeal{KDF: "test", Check: []byte("no")}, opener, 0, "access keys not restored: the passphrase does not open"},
		{"sealed, no passphrase", seal, nil, 0, "give it (--users-passphrase-file"},
		{"not sealed, a passphrase", nil, opener, 0, "the remote index holds no secret"},
		{"not sealed, no passphrase", nil, nil, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rem := newFakeRemote()
			taken := time.Now().Add(-time.Hour).UTC()
			obj := rem.put("photos/a.jpg", []byte("a photo"), taken.Add(-time.Hour), taken.Add(-time.Hour))
			h := remoteindex.Header{Identity: testID, TakenAt: taken, Secrets: c.seal,
				Users: []remoteindex.User{{Name: "alice", Role: "user", Keys: keys}}}
			if c.seal == nil {
				h.Users[0].Keys = []remoteindex.Key{{ID: "AKFULL"}}
			}
			putUsersSnapshot(t, rem, h, remoteindex.Bucket{Name: "photos", Created: taken}, obj)
			a := openTestArchive(t)
			res, err := a.restorer(rem, &recorder{}, func(o *Options) { o.Secrets = c.secrets }).Run(context.Background())
			if err != nil || res.Restored != 1 || strings.Join(res.Users, ",") != "alice" {
				t.Fatalf("restore: %+v, %v", res, err)
			}
			if res.Keys != c.keys || !strings.Contains(res.KeysNote, c.note) || (c.note == "") != (res.KeysNote == "") {
				t.Fatalf("keys %d, note %q; want %d, %q", res.Keys, res.KeysNote, c.keys, c.note)
			}
			d, err := a.node.Directory()
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Keys) != c.keys {
				t.Fatalf("the journal holds %d keys, want %d", len(d.Keys), c.keys)
			}
			for _, k := range d.Keys {
				if k.User != "alice" || !strings.HasPrefix(string(k.Sealed), "resealed:"+k.ID+":") ||
					(k.ID == "AKLAPTOP" && (k.Access != "write" || len(k.Scopes) != 1)) {
					t.Fatalf("key journaled as %+v", k)
				}
			}
		})
	}
}
