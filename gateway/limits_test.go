package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/store"
)

// TestUnsupportedSubresources: every unimplemented subresource is 501 and leaves the
// object's bytes alone; GET ?acl is the canned private ACL.
func TestUnsupportedSubresources(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "sub")
	put(t, c, "sub", "k", []byte("precious"))
	body := []byte("<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>")
	for _, tc := range []struct{ method, path string }{
		{"PUT", "/sub/k?acl"}, {"PUT", "/sub?acl"}, {"PUT", "/sub?policy"}, {"GET", "/sub?policy"},
		{"PUT", "/sub/k?cors"}, {"GET", "/sub/k?cors"}, {"PUT", "/sub/k?lifecycle"},
		{"PUT", "/sub?encryption"}, {"PUT", "/sub/k?retention"}, {"POST", "/sub/k?restore"},
	} {
		status, code, _ := rawDo(t, g, signed(t, tc.method, g.URL+tc.path, body, testAccessKey, testSecret, time.Now()))
		if status != http.StatusNotImplemented || code != "NotImplemented" {
			t.Fatalf("%s %s: %d %s, want 501 NotImplemented", tc.method, tc.path, status, code)
		}
	}
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("sub"), Key: aws.String("k")})
	if string(got) != "precious" {
		t.Fatalf("object after subresource requests: %q", got)
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("sub")})
	if err != nil || len(l.Contents) != 1 {
		t.Fatalf("objects after subresource requests: %v %v", l, err)
	}
	for _, in := range []*s3.GetObjectAclInput{{Bucket: aws.String("sub"), Key: aws.String("k")}} {
		acl, err := c.GetObjectAcl(ctx, in)
		if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
			t.Fatalf("GetObjectAcl: %v %+v", err, acl)
		}
	}
	bacl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("sub")})
	if err != nil || len(bacl.Grants) != 1 || aws.ToString(bacl.Owner.ID) != testAccessKey {
		t.Fatalf("GetBucketAcl: %v %+v", err, bacl)
	}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("sub")})
	if err != nil || v.Status != "" {
		t.Fatalf("GetBucketVersioning: %v %q", err, v.Status)
	}
}

// TestHostileKeys: keys are opaque strings, never paths.
func TestHostileKeys(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "keys")
	mustBucket(t, c, "other")
	keys := []string{"../../x", "./", "../other/evil", "a//b", "/leading", "dir/", ".", "..", "%2e%2e", "?x=1&y", "#frag",
		"sp ace", "ü", strings.Repeat("k", 1024)}
	for i, k := range keys {
		data := []byte(fmt.Sprintf("value %d", i))
		put(t, c, "keys", k, data)
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("keys"), Key: aws.String(k)})
		if !bytes.Equal(got, data) {
			t.Fatalf("key %q read back %q", k, got)
		}
	}
	l, err := c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("keys")})
	if err != nil || len(l.Contents) != len(keys) {
		t.Fatalf("listed %d keys, want %d (%v)", len(l.Contents), len(keys), err)
	}
	o, err := c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("other")})
	if err != nil || len(o.Contents) != 0 {
		t.Fatalf("a key escaped into another bucket: %v %v", o.Contents, err)
	}
	_, err = c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("keys"), Key: aws.String(strings.Repeat("k", 1025)), Body: bytes.NewReader(nil)})
	wantCode(t, err, "KeyTooLongError")
	for _, k := range []string{"nul\x00byte", "bad\xffutf8"} {
		_, err = c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("keys"), Key: aws.String(k), Body: bytes.NewReader([]byte("x"))})
		wantCode(t, err, "InvalidArgument")
	}
	// Nothing was written outside the data directory.
	if _, err := os.Stat(filepath.Join(g.dir, "..", "x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file appeared beside the data directory: %v", err)
	}
}

// fullDisk fails every write with ENOSPC after consuming part of the body, like a
// disk that fills up mid-upload.
type fullDisk struct {
	Objects
}

func (f fullDisk) Put(ctx context.Context, r io.Reader) (store.Blob, error) {
	_, _ = io.CopyN(io.Discard, r, 1000)
	return store.Blob{}, fmt.Errorf("store: write: %w: %w", store.ErrNoSpace, syscall.ENOSPC)
}

func (f fullDisk) PutVerified(ctx context.Context, r io.Reader, _ store.Digest) (store.Blob, error) {
	return f.Put(ctx, r)
}

// Inlines is false: every body goes through Put, which fails.
func (f fullDisk) Inlines() bool { return false }

func TestFullDisk(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "full")
	put(t, c, "full", "old", []byte("kept"))
	g.close()
	g.wrap = func(o Objects) Objects { return fullDisk{o} }
	g.start()
	c = g.client()
	_, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String("old"),
		Body: bytes.NewReader(content(3, 64<<10))})
	wantCode(t, err, "InsufficientStorage")
	_, err = c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String("new"),
		Body: bytes.NewReader(content(3, 64<<10))})
	wantCode(t, err, "InsufficientStorage")
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("full"), Key: aws.String("old")})
	if string(got) != "kept" {
		t.Fatalf("existing object after ENOSPC: %q", got)
	}
	_, err = c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("full"), Key: aws.String("new")})
	wantCode(t, err, "NotFound")
}

// TestStalledUpload: a client that stops sending its body is cut off with
// RequestTimeout and nothing is stored.
func TestStalledUpload(t *testing.T) {
	g := newGateway(t, withConfig(func(c *Config) { c.StallTimeout = 300 * time.Millisecond }))
	c := g.client()
	mustBucket(t, c, "stall")
	req := signed(t, "PUT", g.URL+"/stall/k", nil, testAccessKey, testSecret, time.Now())
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	// Headers announce 100 bytes; only 10 come.
	fmt.Fprintf(conn, "PUT /stall/k HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n", req.Host)
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"} {
		fmt.Fprintf(conn, "%s: %s\r\n", h, req.Header.Get(h))
	}
	fmt.Fprintf(conn, "\r\n0123456789")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a stalled upload: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	// The signature covers an empty payload hash while the body is not empty, so the
	// request fails either way; what matters is that it ends and stores nothing.
	if resp.StatusCode != 400 || !strings.Contains(string(b), "RequestTimeout") {
		t.Fatalf("stalled upload: %d %s", resp.StatusCode, b)
	}
	_, err = c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("stall"), Key: aws.String("k")})
	wantCode(t, err, "NotFound")
}
