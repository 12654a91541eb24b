package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/gateway/sigv4"
)

// pagesControl is a Controller with the archive and diagnostics endpoints.
type pagesControl struct {
	fakeControl
	buckets []string
	deleted []ObjectRef
	list    ListRequest
	logq    LogQuery
}

func (p *pagesControl) Buckets(context.Context) (BucketList, error) {
	out := BucketList{Buckets: []Bucket{}}
	for _, b := range p.buckets {
		out.Buckets = append(out.Buckets, Bucket{Name: b})
	}
	return out, nil
}
func (p *pagesControl) CreateBucket(_ context.Context, name string) error {
	if name == "Bad_Name" {
		return fmt.Errorf("%w: bucket %q: not a bucket name", ErrInvalid, name)
	}
	for _, b := range p.buckets {
		if b == name {
			return fmt.Errorf("%w: bucket %s exists", ErrConflict, name)
		}
	}
	p.buckets = append(p.buckets, name)
	return nil
}
func (p *pagesControl) ListObjects(_ context.Context, req ListRequest) (Listing, error) {
	p.list = req
	if req.Bucket != "photos" {
		return Listing{}, fmt.Errorf("%w: no bucket %s", ErrNotFound, req.Bucket)
	}
	return Listing{Bucket: req.Bucket, Prefix: req.Prefix, Prefixes: []string{req.Prefix + "2026/"},
		Objects: []ObjectEntry{{Bucket: "photos", Key: req.Prefix + "a.jpg", Size: 3, Replication: ReplicationPending}}, Next: "a.jpg"}, nil
}
func (p *pagesControl) DeleteObject(_ context.Context, ref ObjectRef) error {
	p.deleted = append(p.deleted, ref)
	return nil
}
func (p *pagesControl) OpenObject(context.Context, ObjectRef) (ObjectEntry, io.ReadCloser, error) {
	return ObjectEntry{}, nil, errors.New("not over the admin API")
}
func (p *pagesControl) PutObject(context.Context, ObjectRef, string, io.Reader) (ObjectEntry, error) {
	return ObjectEntry{}, errors.New("not over the admin API")
}
func (p *pagesControl) TestRemote(context.Context) (RemoteTest, error) {
	return RemoteTest{Remote: "s3://backup", OK: true, Verdict: "OK", Steps: []RemoteTestStep{{Name: "credentials", OK: true}}}, nil
}
func (p *pagesControl) DropFolders(context.Context) (DropFolders, error) {
	return DropFolders{Folders: []DropFolder{{Path: "/srv/drop", Bucket: "photos"}},
		SkippedDirs: []SkippedDir{{Folder: "/srv/all", Dir: "My Photos", Reason: "not a bucket name", Suggestion: "my-photos"}}}, nil
}
func (p *pagesControl) Log(_ context.Context, q LogQuery) (LogPage, error) {
	p.logq = q
	return LogPage{Lines: []LogLine{{Seq: 7, Time: time.Unix(0, 0), Level: "warn", Message: "disk"}}, Last: 7}, nil
}

var (
	_ Archive     = (*pagesControl)(nil)
	_ Diagnostics = (*pagesControl)(nil)
)

func newPagesServer(t *testing.T) (*Client, *pagesControl, string) {
	t.Helper()
	v := sigv4.NewVerifier(sigv4.StaticCredentials{testKey: testSecret})
	v.Region = testRegion
	ctrl := &pagesControl{buckets: []string{"photos"}}
	srv := httptest.NewServer(Mount(NewHandler(ctrl, v, zerolog.Nop()), s3Stub, ""))
	t.Cleanup(srv.Close)
	return &Client{Endpoint: srv.URL, Region: testRegion, AccessKey: testKey, SecretKey: testSecret}, ctrl, srv.URL
}

// Every archive and diagnostics endpoint, through the client the CLI uses.
func TestPagesEndpoints(t *testing.T) {
	c, ctrl, _ := newPagesServer(t)
	ctx := context.Background()
	if err := c.CreateBucket(ctx, "music"); err != nil {
		t.Fatal(err)
	}
	bl, err := c.Buckets(ctx)
	if err != nil || len(bl.Buckets) != 2 || bl.Buckets[1].Name != "music" {
		t.Fatalf("buckets after creating music: %+v, %v", bl, err)
	}
	var apiErr *APIError
	if err := c.CreateBucket(ctx, "music"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict {
		t.Errorf("creating music twice: %v, want 409", err)
	}
	if err := c.CreateBucket(ctx, "Bad_Name"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Bad_Name") {
		t.Errorf("a bad bucket name: %v, want 400 naming it", err)
	}
	l, err := c.ListObjects(ctx, ListRequest{Bucket: "photos", Prefix: "2025/", After: "2025/0.jpg", Limit: 2})
	if err != nil || len(l.Objects) != 1 || l.Objects[0].Replication != ReplicationPending || l.Prefixes[0] != "2025/2026/" {
		t.Fatalf("list: %+v, %v", l, err)
	}
	if ctrl.list != (ListRequest{Bucket: "photos", Prefix: "2025/", After: "2025/0.jpg", Limit: 2}) {
		t.Errorf("the controller was asked %+v", ctrl.list)
	}
	if _, err := c.ListObjects(ctx, ListRequest{Bucket: "nope"}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("listing a missing bucket: %v, want 404", err)
	}
	if _, err := c.ListObjects(ctx, ListRequest{Bucket: "photos", Limit: MaxListLimit + 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a limit over the maximum: %v, want 400", err)
	}
	if err := c.DeleteObject(ctx, ObjectRef{Bucket: "photos", Key: "a.jpg"}); err != nil || len(ctrl.deleted) != 1 || ctrl.deleted[0].Key != "a.jpg" {
		t.Fatalf("delete: %v, deleted %+v", err, ctrl.deleted)
	}
	rt, err := c.TestRemote(ctx)
	if err != nil || !rt.OK || rt.Steps[0].Name != "credentials" {
		t.Fatalf("remote test: %+v, %v", rt, err)
	}
	df, err := c.DropFolders(ctx)
	if err != nil || df.Folders[0].Bucket != "photos" || df.SkippedDirs[0].Suggestion != "my-photos" {
		t.Fatalf("drop: %+v, %v", df, err)
	}
	lp, err := c.Log(ctx, LogQuery{Level: "warn", After: 3})
	if err != nil || lp.Last != 7 || lp.Lines[0].Message != "disk" || ctrl.logq.Level != "warn" || ctrl.logq.After != 3 {
		t.Fatalf("log: %+v, %v (asked %+v)", lp, err, ctrl.logq)
	}
	if _, err := c.Log(ctx, LogQuery{Level: "loud"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("an unknown level: %v, want 400", err)
	}
	// A GET-only endpoint names only GET.
	err = c.do(ctx, http.MethodPost, PathDrop, nil, nil)
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusMethodNotAllowed || apiErr.Message != PathDrop+" takes GET" {
		t.Errorf("POST drop: %v, want 405 naming GET", err)
	}
}

// Unsigned and wrongly signed requests change nothing.
func TestPagesRefusals(t *testing.T) {
	c, ctrl, base := newPagesServer(t)
	for _, path := range []string{PathBuckets, PathDeleteObject, PathRemoteTest} {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(`{"name":"x","bucket":"photos","key":"a"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("unsigned POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	forged := *c
	forged.SecretKey = "wrong"
	if err := forged.DeleteObject(context.Background(), ObjectRef{Bucket: "photos", Key: "a"}); !errors.Is(err, ErrDenied) {
		t.Errorf("a wrong secret: %v, want refused", err)
	}
	if len(ctrl.deleted) != 0 || len(ctrl.buckets) != 1 {
		t.Fatalf("refused requests changed the archive: deleted %v, buckets %v", ctrl.deleted, ctrl.buckets)
	}
}

// A Controller without the optional interfaces has no such endpoints.
func TestPagesAbsent(t *testing.T) {
	srv, _ := newTestServer(t, "")
	c := &Client{Endpoint: srv.URL, Region: testRegion, AccessKey: testKey, SecretKey: testSecret}
	var apiErr *APIError
	if _, err := c.Buckets(context.Background()); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("buckets on a plain Controller: %v, want 404", err)
	}
}
