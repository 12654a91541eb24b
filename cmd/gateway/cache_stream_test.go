package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
)

// TestServe_EvictWhileStreaming: `gateway evict`, and the collections that
// follow it every 100 ms, run while a GET of a local multipart object has
// sent only the start of its first part: the GET goes on to the end,
// byte-identical (the parts it has not opened yet stay on disk while it
// runs). A GET abandoned half-way by its client holds nothing: once it is
// gone, the collector frees every part of the evicted object.
func TestServe_EvictWhileStreaming(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, _, p, c, dataDir := servePhotos(t, ctx, "store: {cache_on_read: never, gc_interval: 100ms}\n")
	// The first part is far larger than what the sockets can hold between
	// the daemon and a client that has read 64 KiB: the GET is still in it
	// when the eviction runs.
	streamed, abandoned := testutil.Content(11, 32<<20), testutil.Content(12, 32<<20)
	for key, body := range map[string][]byte{"streamed.bin": streamed, "abandoned.bin": abandoned} {
		putMultipart(t, c, "photos", key, body[:24<<20], body[24<<20:29<<20], body[29<<20:])
	}
	s.waitReplicated(t, p)
	onDisk := blobBytes(t, dataDir)

	get := func(key string) io.ReadCloser {
		t.Helper()
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(out.Body, make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
		return out.Body
	}
	body := get("streamed.bin")
	gone := get("abandoned.bin")
	gone.Close() // the client disconnects half-way
	out := cliOK(t, s.env, "evict", "--endpoint", p.endpoint, "photos")
	t.Logf("gateway evict: %s", out)
	time.Sleep(300 * time.Millisecond) // a few more collections
	rest, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatalf("the GET was cut short after %d bytes by the eviction: %v", 64<<10+len(rest), err)
	}
	if got := append(streamed[:64<<10:64<<10], rest...); sha(got) != sha(streamed) {
		t.Fatalf("the GET streamed during the eviction read back %d bytes that differ from the object's %d", len(got), len(streamed))
	}

	// Nothing holds either object's parts any more: the collector frees them.
	var left int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if left = blobBytes(t, dataDir); left <= onDisk-int64(len(streamed)+len(abandoned)) {
			break
		}
	}
	if want := onDisk - int64(len(streamed)+len(abandoned)); left > want {
		t.Fatalf("%d bytes of blobs on disk after both GETs ended, want at most %d: a GET's parts were never released", left, want)
	}
	// And the evicted object reads back through the remote.
	got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("streamed.bin")})
	if err != nil || !bytes.Equal(got, streamed) {
		t.Fatalf("GET of the evicted object through the remote: %d bytes, %v", len(got), err)
	}
}
