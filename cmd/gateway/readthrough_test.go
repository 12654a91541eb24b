package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ipas/ipas/internal/testutil"
)

// cachedHeader is the X-Ipas-Cached header of a response.
func cachedHeader(md middleware.Metadata) string {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return r.Header.Get("X-Ipas-Cached")
	}
	return ""
}

// setCacheOnRead rewrites the setup's configuration with store.cache_on_read.
func (s *restoreSetup) setCacheOnRead(t *testing.T, base []byte, policy string) {
	t.Helper()
	cfg := append(bytes.Clone(base), []byte("store: {cache_on_read: "+policy+"}\n")...)
	if err := os.WriteFile(s.cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
}

func getBytes(ctx context.Context, c *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput, error) {
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out, err
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestReadThrough: after `gateway restore --metadata-only` against a real
// versitygw behind toxiproxy, the daemon serves every object at once, read
// through from the remote: whole, ranged and ?partNumber= GETs are
// byte-identical; a range fetches within one block of itself; 16 concurrent
// GETs of one object fetch each block once; with the remote cut a GET of a
// remote-only object is 503 SlowDown naming the remote while local objects
// are served; with cache_on_read: always a whole read makes the object local
// (no X-Ipas-Cached, readable with the remote cut); a remote copy damaged
// behind IPAS's back fails the GET clearly and caches nothing.
func TestReadThrough(t *testing.T) {
	vgw := testutil.StartVersityGW(t, restoreBucket)
	proxy := testutil.StartProxy(t, vgw.Addr)
	s := newRestoreSetup(t, proxy.Endpoint(), vgw)
	base, err := os.ReadFile(s.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dataDir := filepath.Join(t.TempDir(), "data")

	p, c := s.servePopulated(t, ctx, dataDir)
	want := viewAll(t, ctx, c)
	content := map[string][]byte{}
	for _, name := range restoreObjects {
		b, k, _ := strings.Cut(name, "/")
		body, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		content[name] = body
	}
	s.stop(t, p)
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	if run := s.restore(t, dataDir, "--metadata-only"); run.code != 0 {
		t.Fatalf("restore --metadata-only: %s", run)
	}

	s.setCacheOnRead(t, base, "never")
	p = s.serve(t, dataDir)
	c = s3Client(p.endpoint, restoreAK, restoreSK)
	big := content["docs/big.bin"]

	t.Run("16 concurrent GETs fetch each block once", func(t *testing.T) {
		before := proxy.DownstreamBytes()
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("big.bin")})
				if err != nil || !bytes.Equal(got, big) {
					t.Errorf("concurrent GET: %v, %d bytes", err, len(got))
				}
			}()
		}
		wg.Wait()
		fetched := proxy.DownstreamBytes() - before
		t.Logf("16 concurrent GETs of a %d-byte object fetched %d bytes from the remote", len(big), fetched)
		if fetched > int64(len(big))+64<<10 {
			t.Errorf("16 concurrent GETs of %d bytes fetched %d bytes from the remote, want each block once", len(big), fetched)
		}
	})

	t.Run("every object, whole, ranged and by part", func(t *testing.T) {
		// First, while none of video.mp4's blocks were fetched yet.
		checkRangeFetch(t, ctx, c, proxy, "docs", "video.mp4", content["docs/video.mp4"], 5_000_000, 1000)
		for _, name := range restoreObjects {
			b, k, _ := strings.Cut(name, "/")
			if got := viewObject(t, ctx, c, b, k); !reflect.DeepEqual(got, want[name]) {
				t.Errorf("GET %s:\n got %+v\nwant %+v", name, got, want[name])
			}
			body := content[name]
			for part := int32(1); part <= max(want[name].PartsCount, 1); part++ {
				got, out, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k), PartNumber: aws.Int32(part)})
				if err != nil {
					t.Fatalf("GET %s part %d: %v", name, part, err)
				}
				var first, last, total int64
				if r := aws.ToString(out.ContentRange); r != "" {
					fmt.Sscanf(r, "bytes %d-%d/%d", &first, &last, &total)
				} else {
					last = int64(len(body)) - 1
				}
				if !bytes.Equal(got, body[first:last+1]) {
					t.Errorf("GET %s part %d (%s): wrong bytes", name, part, aws.ToString(out.ContentRange))
				}
			}
		}
		if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("video.mp4")}); err != nil ||
			cachedHeader(h.ResultMetadata) != "false" {
			t.Errorf("cache_on_read never: HEAD %v, X-Ipas-Cached %q, want false", err, cachedHeader(h.ResultMetadata))
		}
	})

	// A restarted daemon holds none of big.bin's blocks in memory
	// (archive.BlockBudget keeps the last ones read: all of them here).
	s.stop(t, p)
	p = s.serve(t, dataDir)
	c = s3Client(p.endpoint, restoreAK, restoreSK)
	t.Run("remote cut", func(t *testing.T) {
		local := []byte("written while the remote is down")
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String("local.txt"), Body: bytes.NewReader(local)}); err != nil {
			t.Fatal(err)
		}
		proxy.Cut()
		defer proxy.Heal(t)
		_, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("big.bin"), Range: aws.String("bytes=0-99")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "SlowDown" || !strings.Contains(err.Error(), "StatusCode: 503") ||
			!strings.Contains(ae.ErrorMessage(), proxy.Endpoint()) {
			t.Errorf("GET of a remote-only object with the remote cut: %v; want 503 SlowDown naming %s", err, proxy.Endpoint())
		}
		if got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("local.txt")}); err != nil || !bytes.Equal(got, local) {
			t.Errorf("GET of a local object with the remote cut: %v %q", err, got)
		}
	})
	s.stop(t, p)

	s.setCacheOnRead(t, base, "always")
	p = s.serve(t, dataDir)
	defer s.stop(t, p)
	c = s3Client(p.endpoint, restoreAK, restoreSK)

	t.Run("remote copy damaged", func(t *testing.T) {
		for _, name := range []string{"docs/sha256.bin", "docs/big.bin"} {
			flipByte(t, filepath.Join(s.remoteDir, name), 1234)
		}
		// One block: the mismatch is known before the status line.
		_, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("sha256.bin")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalError" || !strings.Contains(ae.ErrorMessage(), "does not match") {
			t.Errorf("GET of a damaged one-block object: %v; want 500 InternalError saying the remote copy does not match", err)
		}
		// Several blocks: the body is cut short before its last block.
		got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("big.bin")})
		if err == nil || len(got) >= len(big) {
			t.Errorf("GET of a damaged %d-byte object: %v after %d bytes; want a broken transfer", len(big), err, len(got))
		}
		for _, name := range []string{"docs/sha256.bin", "docs/big.bin"} {
			b, k, _ := strings.Cut(name, "/")
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
			if err != nil || cachedHeader(h.ResultMetadata) != "false" {
				t.Errorf("HEAD %s after a failed read-through: %v, X-Ipas-Cached %q; want false (nothing cached)", name, err, cachedHeader(h.ResultMetadata))
			}
			if !strings.Contains(p.stderr.String(), "remote copy was changed or damaged") || !strings.Contains(p.stderr.String(), `"key":"`+k+`"`) {
				t.Errorf("no ERROR log naming %s:\n%s", name, p.stderr)
			}
		}
	})

	t.Run("cache_on_read always", func(t *testing.T) {
		for _, name := range []string{"docs/crc32c.bin", "docs/video.mp4"} {
			b, k, _ := strings.Cut(name, "/")
			if got := viewObject(t, ctx, c, b, k); !reflect.DeepEqual(got, want[name]) {
				t.Errorf("GET %s:\n got %+v\nwant %+v", name, got, want[name])
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
			if err != nil || cachedHeader(h.ResultMetadata) != "" || h.StorageClass != types.StorageClassStandard {
				t.Errorf("HEAD %s after a whole read: %v, X-Ipas-Cached %q; want local", name, err, cachedHeader(h.ResultMetadata))
			}
		}
		proxy.Cut()
		defer proxy.Heal(t)
		for _, name := range []string{"docs/crc32c.bin", "docs/video.mp4"} {
			b, k, _ := strings.Cut(name, "/")
			if got := viewObject(t, ctx, c, b, k); !reflect.DeepEqual(got, want[name]) {
				t.Errorf("GET %s cached, the remote cut:\n got %+v\nwant %+v", name, got, want[name])
			}
		}
	})

}

// flipByte inverts one bit of the file at off.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
