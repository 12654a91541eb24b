package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/internal/testutil"
)

// TestReadThroughFirstByteBeforeBlock: over a slow link to the remote (a
// toxiproxy bandwidth toxic of 512 KB/s, so that one 1 MiB block takes about
// 2 s), a GET of an evicted object hands the client its first byte as soon
// as the first bytes cross the link, well before the first block is whole,
// and the whole body still reads back with the object's SHA-256; so does a
// first byte that crosses a 20 KB/s link in a first packet smaller than
// net/http's buffer. A link that drops mid-block (a limit_data toxic) cuts
// the client's body short after right bytes only, and the next GET reads
// the object whole.
func TestReadThroughFirstByteBeforeBlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, proxy, p, c, _ := servePhotos(t, ctx, "store: {cache_on_read: never}\n")
	content := testutil.Content(7, 2*archive.BlockSize+1000)
	dropped := testutil.Content(8, 2*archive.BlockSize+1000) // none of its blocks in memory when the link drops
	trickled := testutil.Content(9, 2*archive.BlockSize+1000)
	for key, body := range map[string][]byte{"slow.bin": content, "drop.bin": dropped, "trickle.bin": trickled} {
		if err := putBytes(ctx, c, "photos", key, body); err != nil {
			t.Fatal(err)
		}
	}
	s.waitReplicated(t, p)
	if out := cliOK(t, s.env, "evict", "--endpoint", p.endpoint, "photos"); !strings.Contains(out, "3 evicted") {
		t.Fatalf("gateway evict said %q", out)
	}
	proxy.AddToxic(t, "slow", "bandwidth", "downstream", map[string]any{"rate": 512})

	start := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("slow.bin")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if cachedHeader(out.ResultMetadata) != "false" {
		t.Fatalf("X-Ipas-Cached %q: the object is not read through", cachedHeader(out.ResultMetadata))
	}
	h := sha256.New()
	if _, err := io.CopyN(h, out.Body, 1); err != nil {
		t.Fatal(err)
	}
	firstByte := time.Since(start)
	if _, err := io.CopyN(h, out.Body, archive.BlockSize-1); err != nil {
		t.Fatal(err)
	}
	firstBlock := time.Since(start)
	if _, err := io.Copy(h, out.Body); err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), sha(content); got != want {
		t.Fatalf("the body read through hashes to %s, want %s", got, want)
	}
	t.Logf("first byte after %v, the first 1 MiB block after %v, the whole %d bytes after %v", firstByte, firstBlock, len(content), time.Since(start))
	if firstByte > firstBlock/3 {
		t.Errorf("the first byte came after %v, the first block after %v: want the first byte within a third of the block's time (streamed as it arrives)", firstByte, firstBlock)
	}

	proxy.RemoveToxic(t, "slow")

	// At 20 KB/s the link passes 2,000 bytes every 100 ms: the first bytes
	// of the body are fewer than net/http's buffer holds, and must still
	// reach the client at once (the block would take 50 s).
	proxy.AddToxic(t, "trickle", "bandwidth", "downstream", map[string]any{"rate": 20})
	start = time.Now()
	out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("trickle.bin")})
	if err != nil {
		t.Fatal(err)
	}
	var first [1]byte
	_, err = io.ReadFull(out.Body, first[:])
	firstByte = time.Since(start)
	out.Body.Close()
	proxy.RemoveToxic(t, "trickle") // the abandoned fetch ends
	if err != nil || first[0] != trickled[0] {
		t.Fatalf("first byte over a 20 KB/s link: %v, %q, want %q", err, first[0], trickled[0])
	}
	t.Logf("over a 20 KB/s link the first byte came after %v", firstByte)
	if firstByte > 10*time.Second {
		t.Errorf("over a 20 KB/s link the first byte came after %v, want it with the link's first bytes, not with its block's last (about 50 s)", firstByte)
	}

	proxy.AddToxic(t, "drop", "limit_data", "downstream", map[string]any{"bytes": 300_000})
	got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("drop.bin")})
	if err == nil || len(got) >= archive.BlockSize || !bytes.Equal(got, dropped[:len(got)]) {
		t.Fatalf("GET while the link drops after 300,000 bytes: %v after %d bytes (equal to the object's first bytes: %v); want a broken transfer within the first block",
			err, len(got), bytes.Equal(got, dropped[:len(got)]))
	}
	t.Logf("the link dropped mid-block: the client got %d right bytes and %v", len(got), err)
	proxy.RemoveToxic(t, "drop")
	if got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("drop.bin")}); err != nil || !bytes.Equal(got, dropped) {
		t.Fatalf("GET once the link is back: %v, %d bytes, equal %v", err, len(got), bytes.Equal(got, dropped))
	}
}
