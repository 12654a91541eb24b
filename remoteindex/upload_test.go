package remoteindex

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// memFiles keeps control files in memory and checks each upload's MD5.
type memFiles struct {
	mu    sync.Mutex
	files map[string][]byte
	puts  int
}

func (m *memFiles) PutControlFile(_ context.Context, name string, body io.Reader, size int64, sum []byte) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if got := md5.Sum(b); int64(len(b)) != size || !bytes.Equal(got[:], sum) {
		return fmt.Errorf("put %s: %d bytes with md5 %x, announced %d and %x", name, len(b), got, size, sum)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = b
	m.puts++
	return nil
}

func (m *memFiles) GetControlFile(_ context.Context, name string) (io.ReadCloser, replication.RemoteObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, replication.RemoteObject{}, replication.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), replication.RemoteObject{Size: int64(len(b))}, nil
}

func (m *memFiles) DeleteControlFile(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	return nil
}

func (m *memFiles) pointer(t *testing.T) Pointer {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var p Pointer
	if err := json.Unmarshal(m.files[PointerName], &p); err != nil {
		t.Fatalf("pointer: %v", err)
	}
	return p
}

// TestSnapshotter_UploadsWhenChangedAndKeepsTwo: a snapshot is uploaded only
// when the journal moved, the pointer names a complete one, and the remote
// keeps the newest two.
func TestSnapshotter_UploadsWhenChangedAndKeepsTwo(t *testing.T) {
	n := openQueue(t)
	ctx := context.Background()
	files := &memFiles{files: map[string][]byte{}}
	s, err := NewSnapshotter(n, files, testIdentity, t.TempDir(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	n.CreateBucket(ctx, "docs", time.Now())
	var names []string
	for i := range 4 {
		blob := fmt.Sprintf("%064x", i)
		if err := n.PutObject(ctx, queue.Object{Bucket: "docs", Key: fmt.Sprintf("k%d", i), VersionID: queue.NewVersionID(time.Now()),
			Blob: blob, Size: 1, ETag: "e", SHA256: blob}); err != nil {
			t.Fatal(err)
		}
		up, err := s.UploadIfChanged(ctx)
		if err != nil || !up {
			t.Fatalf("upload %d after a change: %v %v", i, up, err)
		}
		p := files.pointer(t)
		names = append(names, p.Current)
		if p.Objects != int64(i+1) || p.Identity != testIdentity {
			t.Fatalf("pointer %+v after %d objects", p, i+1)
		}
		if _, tr, err := Validate(bytes.NewReader(files.files[p.Current]), &testIdentity); err != nil || tr.Objects != int64(i+1) {
			t.Fatalf("the snapshot the pointer names: %+v %v", tr, err)
		}
		time.Sleep(2 * time.Millisecond) // distinct snapshot names
	}
	if up, err := s.UploadIfChanged(ctx); err != nil || up {
		t.Fatalf("an upload without a change: %v %v", up, err)
	}
	for i, name := range names {
		_, kept := files.files[name]
		if want := i >= len(names)-2; kept != want {
			t.Errorf("snapshot %d (%s) kept %v, want %v", i, name, kept, want)
		}
	}
	if p := files.pointer(t); p.Previous != names[len(names)-2] {
		t.Errorf("pointer's previous %s, want %s", p.Previous, names[len(names)-2])
	}
}

// TestSnapshotter_CarriesUsers: a snapshot carries the users, their keys
// without any secret, each bucket's owner and policy, so that a restore can
// bring them back.
func TestSnapshotter_CarriesUsers(t *testing.T) {
	n := openQueue(t)
	ctx := context.Background()
	files := &memFiles{files: map[string][]byte{}}
	s, err := NewSnapshotter(n, files, testIdentity, t.TempDir(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	sealed := []byte("SEALED-SECRET-BYTES")
	policy := `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`
	for _, err := range []error{
		n.AddUser(ctx, queue.User{Name: "alice", Role: "user", Quota: 1 << 30}),
		n.AddAccessKey(ctx, queue.AccessKey{ID: "AKALICE", User: "alice", Sealed: sealed, Access: "write", Scopes: []string{"photos/"}}, ""),
		n.CreateOwnedBucket(ctx, "photos", "alice", time.Now()),
		n.SetBucketPolicy(ctx, "photos", policy),
		n.CreateBucket(ctx, "shared", time.Now()),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Upload(ctx); err != nil {
		t.Fatal(err)
	}
	raw := files.files[files.pointer(t).Current]
	r, err := NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if len(h.Users) != 1 || h.Users[0].Name != "alice" || h.Users[0].Quota != 1<<30 || len(h.Users[0].Keys) != 1 ||
		h.Users[0].Keys[0].ID != "AKALICE" || h.Users[0].Keys[0].Access != "write" {
		t.Fatalf("users in the snapshot: %+v", h.Users)
	}
	buckets, err := r.Buckets()
	if err != nil || len(buckets) != 2 {
		t.Fatalf("buckets %+v, %v", buckets, err)
	}
	if b := buckets[0]; b.Name != "photos" || b.Settings[SettingOwner] != "alice" || b.Settings[SettingPolicy] != policy {
		t.Fatalf("photos in the snapshot: %+v", b)
	}
	if b := buckets[1]; b.Settings[SettingOwner] != "" || b.Settings[SettingPolicy] != "" {
		t.Fatalf("an admins' bucket without a policy: %+v", b)
	}
	if bytes.Contains(gunzip(t, raw), sealed) || h.Secrets != nil || h.Users[0].Keys[0].Secret != nil {
		t.Fatal("the snapshot holds a sealed secret")
	}

	// With a passphrase's SecretSealer: each secret resealed under it, the
	// seal in the header, a key it cannot reseal kept without its secret.
	if err := n.AddAccessKey(ctx, queue.AccessKey{ID: "AKBROKEN", User: "alice", Sealed: []byte("DAMAGED")}, ""); err != nil {
		t.Fatal(err)
	}
	s.Secrets = passphraseSealer{}
	if _, err := s.Upload(ctx); err != nil {
		t.Fatal(err)
	}
	raw = files.files[files.pointer(t).Current]
	if r, err = NewReader(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	h = r.Header()
	if h.Secrets == nil || h.Secrets.KDF != "test" || len(h.Users[0].Keys) != 2 {
		t.Fatalf("header %+v", h)
	}
	for _, k := range h.Users[0].Keys {
		if want := map[string]string{"AKALICE": "UNDER-PASSPHRASE", "AKBROKEN": ""}[k.ID]; string(k.Secret) != want {
			t.Fatalf("key %s carries %q, want %q", k.ID, k.Secret, want)
		}
	}
	if bytes.Contains(gunzip(t, raw), sealed) {
		t.Fatal("the snapshot holds a secret sealed with the data directory's key")
	}
}

// passphraseSealer reseals AKALICE's secret and refuses any other.
type passphraseSealer struct{}

func (passphraseSealer) Seal() SecretSeal { return SecretSeal{KDF: "test"} }

func (passphraseSealer) Reseal(id string, sealed []byte) ([]byte, error) {
	if id != "AKALICE" {
		return nil, errors.New("does not open")
	}
	return []byte("UNDER-PASSPHRASE"), nil
}
