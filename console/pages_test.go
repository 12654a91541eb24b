package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/logring"
)

// archiveRecorder is a recorder with an in-memory archive, a remote test and
// a real log ring.
type archiveRecorder struct {
	recorder
	mu         sync.Mutex
	buckets    []string
	objects    map[string][]byte // "bucket/key" -> bytes
	remoteOnly map[string]bool
	tests      int
	passes     int
	ring       *logring.Ring
}

func newArchiveRecorder() *archiveRecorder {
	return &archiveRecorder{buckets: []string{"photos"}, objects: map[string][]byte{}, remoteOnly: map[string]bool{}, ring: logring.New(100)}
}

func (a *archiveRecorder) Buckets(context.Context) (admin.BucketList, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := admin.BucketList{Buckets: []admin.Bucket{}}
	for _, b := range a.buckets {
		out.Buckets = append(out.Buckets, admin.Bucket{Name: b})
	}
	return out, nil
}
func (a *archiveRecorder) CreateBucket(_ context.Context, name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if strings.ContainsAny(name, "_ ") {
		return fmt.Errorf("%w: bucket %q is not a bucket name", admin.ErrInvalid, name)
	}
	for _, b := range a.buckets {
		if b == name {
			return fmt.Errorf("%w: bucket %s exists already", admin.ErrConflict, name)
		}
	}
	a.buckets = append(a.buckets, name)
	return nil
}
func (a *archiveRecorder) ListObjects(_ context.Context, req admin.ListRequest) (admin.Listing, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := admin.Listing{Bucket: req.Bucket, Prefix: req.Prefix, Prefixes: []string{}, Objects: []admin.ObjectEntry{}}
	for name, b := range a.objects {
		bucket, key, _ := strings.Cut(name, "/")
		if bucket == req.Bucket && strings.HasPrefix(key, req.Prefix) {
			out.Objects = append(out.Objects, admin.ObjectEntry{Bucket: bucket, Key: key, Size: int64(len(b)), Replication: admin.ReplicationPending})
		}
	}
	return out, nil
}
func (a *archiveRecorder) DeleteObject(_ context.Context, ref admin.ObjectRef) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.objects[ref.Bucket+"/"+ref.Key]; !ok {
		return fmt.Errorf("%w: no object %s/%s", admin.ErrNotFound, ref.Bucket, ref.Key)
	}
	delete(a.objects, ref.Bucket+"/"+ref.Key)
	return nil
}
func (a *archiveRecorder) OpenObject(_ context.Context, ref admin.ObjectRef) (admin.ObjectEntry, io.ReadCloser, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.objects[ref.Bucket+"/"+ref.Key]
	if !ok {
		return admin.ObjectEntry{}, nil, fmt.Errorf("%w: no object %s/%s", admin.ErrNotFound, ref.Bucket, ref.Key)
	}
	if a.remoteOnly[ref.Bucket+"/"+ref.Key] {
		return admin.ObjectEntry{}, nil, fmt.Errorf("%w: the bytes are on the remote only", admin.ErrConflict)
	}
	return admin.ObjectEntry{Bucket: ref.Bucket, Key: ref.Key, Size: int64(len(b)), ETag: "e"}, io.NopCloser(bytes.NewReader(b)), nil
}
func (a *archiveRecorder) PutObject(_ context.Context, ref admin.ObjectRef, ct string, body io.Reader) (admin.ObjectEntry, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return admin.ObjectEntry{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.objects[ref.Bucket+"/"+ref.Key] = b
	return admin.ObjectEntry{Bucket: ref.Bucket, Key: ref.Key, Size: int64(len(b)), ContentType: ct, Replication: admin.ReplicationPending}, nil
}
func (a *archiveRecorder) TestRemote(context.Context) (admin.RemoteTest, error) {
	a.mu.Lock()
	a.tests++
	a.mu.Unlock()
	return admin.RemoteTest{Remote: "s3://backup", OK: true, Verdict: "OK: ready", Steps: []admin.RemoteTestStep{{Name: "credentials", OK: true}}}, nil
}
func (a *archiveRecorder) DropFolders(context.Context) (admin.DropFolders, error) {
	return admin.DropFolders{Folders: []admin.DropFolder{{Path: "/srv/drop", Bucket: "photos"}},
		SkippedDirs: []admin.SkippedDir{{Folder: "/srv/all", Dir: "My Photos", Reason: "not a bucket name"}}}, nil
}
func (a *archiveRecorder) Log(_ context.Context, q admin.LogQuery) (admin.LogPage, error) {
	return a.ring.Page(q), nil
}
func (a *archiveRecorder) Reconcile(_ context.Context, start bool) (admin.Reconcile, error) {
	if start {
		a.mu.Lock()
		a.passes++
		a.mu.Unlock()
	}
	return admin.Reconcile{Running: &admin.ReconcileRun{Run: admin.Run{Trigger: "request"}}}, nil
}
func (a *archiveRecorder) Scrub(_ context.Context, start bool) (admin.Scrub, error) {
	if start {
		a.mu.Lock()
		a.passes++
		a.mu.Unlock()
	}
	return admin.Scrub{Running: &admin.ScrubRun{Run: admin.Run{Trigger: "request"}}}, nil
}

func (a *archiveRecorder) counts() (objects, buckets, tests, passes int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.objects), len(a.buckets), a.tests, a.passes
}

// raw sends body as is, with the session's CSRF token, and returns the
// response, read.
func (c *client) raw(method, path, contentType string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// pageChanges are the state-changing endpoints of the new pages.
var pageChanges = []struct {
	method, path string
	body         any
}{
	{"POST", "/api/v1/buckets", admin.CreateBucketRequest{Name: "music"}},
	{"POST", "/api/v1/objects/delete", admin.ObjectRef{Bucket: "photos", Key: "a.jpg"}},
	{"PUT", "/api/v1/objects/upload?bucket=photos&key=new.jpg", nil},
	{"POST", "/api/v1/remote/test", nil},
	{"POST", "/api/v1/remote/reconcile", nil},
	{"POST", "/api/v1/scrub", nil},
}

// TestPages_RefusedWithoutSignInOrCSRF: no endpoint of the new pages answers
// without a session, and none of their changes is made with a wrong CSRF token.
func TestPages_RefusedWithoutSignInOrCSRF(t *testing.T) {
	rec := newArchiveRecorder()
	rec.objects["photos/a.jpg"] = []byte("a")
	ts := newTestConsole(t, rec, nil)
	anon := newClient(t, ts.URL)
	reads := []string{"/api/v1/buckets", "/api/v1/objects?bucket=photos", "/api/v1/objects/download?bucket=photos&key=a.jpg", "/api/v1/drop", "/api/v1/log"}
	for _, p := range reads {
		if code, errCode := anon.do("GET", p, nil, nil); code != http.StatusUnauthorized || errCode != "NotSignedIn" {
			t.Errorf("GET %s without a session: %d %s, want 401", p, code, errCode)
		}
	}
	for _, ch := range pageChanges {
		if code, errCode := anon.do(ch.method, ch.path, ch.body, nil); code != http.StatusUnauthorized || errCode != "NotSignedIn" {
			t.Errorf("%s %s without a session: %d %s, want 401", ch.method, ch.path, code, errCode)
		}
	}
	c := newClient(t, ts.URL)
	if code, _ := c.login(testKey, testSecret); code != 200 {
		t.Fatal("sign in failed")
	}
	good := c.csrf
	for _, token := range []string{"", good + "x"} {
		c.csrf = token
		for _, ch := range pageChanges {
			if code, errCode := c.do(ch.method, ch.path, ch.body, nil); code != http.StatusForbidden || errCode != "InvalidCSRFToken" {
				t.Errorf("%s %s with CSRF token %q: %d %s, want 403 InvalidCSRFToken", ch.method, ch.path, token, code, errCode)
			}
		}
		if resp, _ := c.raw("PUT", "/api/v1/objects/upload?bucket=photos&key=new.jpg", "image/jpeg", []byte("forged")); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an upload with CSRF token %q: %d, want 403", token, resp.StatusCode)
		}
	}
	if objects, buckets, tests, passes := rec.counts(); objects != 1 || buckets != 1 || tests != 0 || passes != 0 {
		t.Fatalf("refused requests changed the daemon: %d objects, %d buckets, %d remote tests, %d passes", objects, buckets, tests, passes)
	}
}

// TestPages_Actions drives every endpoint of the new pages with a session.
func TestPages_Actions(t *testing.T) {
	rec := newArchiveRecorder()
	ts := newTestConsole(t, rec, nil)
	c := newClient(t, ts.URL)
	c.login("", testPassword)

	if code, _ := c.do("POST", "/api/v1/buckets", admin.CreateBucketRequest{Name: "music"}, nil); code != http.StatusNoContent {
		t.Fatalf("create a bucket: %d", code)
	}
	if code, errCode := c.do("POST", "/api/v1/buckets", admin.CreateBucketRequest{Name: "music"}, nil); code != http.StatusConflict || errCode != "Conflict" {
		t.Errorf("create it again: %d %s, want 409 Conflict", code, errCode)
	}
	if code, errCode := c.do("POST", "/api/v1/buckets", admin.CreateBucketRequest{Name: "My Music"}, nil); code != http.StatusBadRequest || errCode != "InvalidRequest" {
		t.Errorf("an invalid name: %d %s, want 400", code, errCode)
	}
	var bl admin.BucketList
	if c.do("GET", "/api/v1/buckets", nil, &bl); len(bl.Buckets) != 2 || bl.Buckets[1].Name != "music" {
		t.Fatalf("buckets: %+v", bl)
	}

	body := make([]byte, 3<<20+17)
	rand.Read(body)
	resp, raw := c.raw("PUT", "/api/v1/objects/upload?bucket=photos&key=2026/big+one.bin", "application/x-thing", body)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"size":3145745`) {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	var l admin.Listing
	if c.do("GET", "/api/v1/objects?bucket=photos&prefix=2026/", nil, &l); len(l.Objects) != 1 || l.Objects[0].Key != "2026/big one.bin" || l.Objects[0].Replication != "PENDING" {
		t.Fatalf("listing after the upload: %+v", l)
	}
	if code, _ := c.do("GET", "/api/v1/objects", nil, nil); code != http.StatusBadRequest {
		t.Errorf("a listing without a bucket: %d, want 400", code)
	}

	resp, got := c.raw("GET", "/api/v1/objects/download?bucket=photos&key=2026/big+one.bin", "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("download: %d, %d bytes, identical %v", resp.StatusCode, len(got), bytes.Equal(got, body))
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/octet-stream" || cd != `attachment; filename="big one.bin"` ||
		!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("download headers: %q %q %q: an object must never render on the console's origin", ct, cd, resp.Header.Get("Content-Security-Policy"))
	}
	rec.mu.Lock()
	rec.objects["photos/cold.jpg"] = []byte("x")
	rec.remoteOnly["photos/cold.jpg"] = true
	rec.mu.Unlock()
	if code, errCode := c.do("GET", "/api/v1/objects/download?bucket=photos&key=cold.jpg", nil, nil); code != http.StatusConflict || errCode != "Conflict" {
		t.Errorf("download a remote-only object: %d %s, want 409", code, errCode)
	}
	if code, errCode := c.do("GET", "/api/v1/objects/download?bucket=photos&key=none", nil, nil); code != http.StatusNotFound || errCode != "NotFound" {
		t.Errorf("download a missing object: %d %s, want 404", code, errCode)
	}

	if code, _ := c.do("POST", "/api/v1/objects/delete", admin.ObjectRef{Bucket: "photos", Key: "2026/big one.bin"}, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := c.do("POST", "/api/v1/objects/delete", admin.ObjectRef{Bucket: "photos", Key: "2026/big one.bin"}, nil); code != http.StatusNotFound {
		t.Errorf("delete it again: %d, want 404", code)
	}

	var rt admin.RemoteTest
	if code, _ := c.do("POST", "/api/v1/remote/test", nil, &rt); code != 200 || !rt.OK || rt.Steps[0].Name != "credentials" {
		t.Fatalf("remote test: %d %+v", code, rt)
	}
	var recon admin.Reconcile
	if code, _ := c.do("POST", "/api/v1/remote/reconcile", nil, &recon); code != 200 || recon.Running == nil {
		t.Fatalf("start a reconcile: %d %+v", code, recon)
	}
	var scrub admin.Scrub
	if code, _ := c.do("POST", "/api/v1/scrub", nil, &scrub); code != 200 || scrub.Running == nil {
		t.Fatalf("start a scrub: %d %+v", code, scrub)
	}
	var df admin.DropFolders
	if c.do("GET", "/api/v1/drop", nil, &df); len(df.Folders) != 1 || df.SkippedDirs[0].Dir != "My Photos" {
		t.Fatalf("drop folders: %+v", df)
	}

	log := zerolog.New(rec.ring)
	log.Info().Msg("fine")
	log.Error().Str("bucket", "photos").Msg("broken")
	var lp admin.LogPage
	if c.do("GET", "/api/v1/log?level=warn", nil, &lp); len(lp.Lines) != 1 || lp.Lines[0].Message != "broken" || lp.Last != 2 {
		t.Fatalf("log at warn: %+v", lp)
	}
	if code, _ := c.do("GET", "/api/v1/log?level=loud", nil, nil); code != http.StatusBadRequest {
		t.Errorf("an unknown level: %d, want 400", code)
	}
}

// TestPages_LogLive: an open page hears of new log lines over its event
// stream.
func TestPages_LogLive(t *testing.T) {
	rec := newArchiveRecorder()
	ts := newTestConsole(t, rec, nil)
	c := newClient(t, ts.URL)
	c.login(testKey, testSecret)
	r, stop := openEvents(t, c)
	defer stop()
	log := zerolog.New(rec.ring)
	log.Warn().Msg("one")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		name, data := readEvent(t, r)
		if name == "log" {
			if data != `{"last":1}` {
				t.Fatalf("log event %q, want last 1", data)
			}
			return
		}
	}
	t.Fatal("no log event")
}
