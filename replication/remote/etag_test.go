package remote_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/replication"
)

// TestPutObjectChecksETag: PutObject's answer is the end-to-end check of a
// small object (replication does not HEAD it afterwards): the remote's
// ETag is returned when it is the MD5 of the bytes sent, and an ETag that
// is some other MD5 (a remote that stored something else) is an error.
func TestPutObjectChecksETag(t *testing.T) {
	gw := testutil.StartVersityGW(t, "replica")
	up, err := url.Parse(gw.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var lie atomic.Bool
	rp := httputil.NewSingleHostReverseProxy(up)
	rp.ModifyResponse = func(resp *http.Response) error {
		if lie.Load() && resp.Request.Method == http.MethodPut {
			resp.Header.Set("ETag", `"`+strings.Repeat("0", 32)+`"`)
		}
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	cl := newClient(t, proxy.URL, "replica", gw.AccessKey, gw.SecretKey, 1000)

	body := []byte("a photo, small enough for one PUT")
	sum := md5.Sum(body)
	meta := replication.ObjectMeta{SHA256: "test", Size: int64(len(body))}
	c, err := cl.PutObject(t.Context(), "photos/a.jpg", bytes.NewReader(body), int64(len(body)), sum[:], meta)
	if etag := c.ETag; err != nil || etag != hex.EncodeToString(sum[:]) {
		t.Fatalf("put: etag %q, %v; want %x", c.ETag, err, sum)
	}
	lie.Store(true)
	_, err = cl.PutObject(t.Context(), "photos/b.jpg", bytes.NewReader(body), int64(len(body)), sum[:], meta)
	if err == nil || !strings.Contains(err.Error(), "is not the MD5") {
		t.Fatalf("put answered with a wrong ETag: %v; want an error naming the mismatch", err)
	}
}
