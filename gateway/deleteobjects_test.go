package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// unsignedPayload signs req with UNSIGNED-PAYLOAD: the signature covers the
// headers set before the call, not the body.
func unsignedPayload(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func deleteBody(keys ...string) []byte {
	b := []byte(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	for _, k := range keys {
		b = append(b, "<Object><Key>"+k+"</Key></Object>"...)
	}
	return append(b, "</Delete>"...)
}

func md5Base64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// TestDeleteObjectsNeedsADigest: as in S3, a DeleteObjects must carry a digest of
// its key list (Content-MD5 or x-amz-checksum-*); with UNSIGNED-PAYLOAD the digest
// must be signed, so that a captured request cannot be replayed with another key
// list. The SDK, which sends a checksum, deletes as before.
func TestDeleteObjectsNeedsADigest(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "del")
	for _, k := range []string{"a", "b", "c"} {
		put(t, c, "del", k, []byte(k))
	}
	exists := func(key string) bool {
		_, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("del"), Key: aws.String(key)})
		return err == nil
	}
	send := func(req *http.Request) (int, string) {
		res, err := g.httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	newReq := func(body []byte) *http.Request {
		req, err := http.NewRequest(http.MethodPost, g.URL+"/del?delete", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}

	// UNSIGNED-PAYLOAD and no digest at all.
	status, doc := send(unsignedPayload(t, newReq(deleteBody("a"))))
	if status != http.StatusBadRequest || !bytes.Contains([]byte(doc), []byte("<Code>InvalidRequest</Code>")) ||
		!bytes.Contains([]byte(doc), []byte("Missing required header for this request: Content-MD5")) {
		t.Fatalf("DeleteObjects without a digest: %d %s", status, doc)
	}
	// A Content-MD5 added after signing, for another key list: a replay.
	req := unsignedPayload(t, newReq(deleteBody("a")))
	req.Header.Set("Content-Md5", md5Base64(deleteBody("a")))
	if status, doc := send(req); status != http.StatusForbidden || !bytes.Contains([]byte(doc), []byte("content-md5")) {
		t.Fatalf("DeleteObjects with an unsigned Content-MD5: %d %s", status, doc)
	}
	// A signed Content-MD5 that does not match the body it came with.
	req = newReq(deleteBody("b"))
	req.Header.Set("Content-Md5", md5Base64(deleteBody("a")))
	if status, doc := send(unsignedPayload(t, req)); status != http.StatusBadRequest || !bytes.Contains([]byte(doc), []byte("BadDigest")) {
		t.Fatalf("DeleteObjects with a Content-MD5 of another body: %d %s", status, doc)
	}
	if !exists("a") || !exists("b") {
		t.Fatal("a refused DeleteObjects deleted something")
	}
	// A signed Content-MD5 that matches.
	req = newReq(deleteBody("a"))
	req.Header.Set("Content-Md5", md5Base64(deleteBody("a")))
	if status, doc := send(unsignedPayload(t, req)); status != http.StatusOK {
		t.Fatalf("DeleteObjects with a signed Content-MD5: %d %s", status, doc)
	}
	if exists("a") {
		t.Fatal("a DeleteObjects with a signed Content-MD5 left its key")
	}

	// The SDK with UNSIGNED-PAYLOAD sends a checksum header (signed, as every
	// x-amz-* header must be): accepted.
	unsigned := g.client(func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	})
	out, err := unsigned.DeleteObjects(ctxT(t), &s3.DeleteObjectsInput{Bucket: aws.String("del"),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("b")}, {Key: aws.String("c")}}}})
	if err != nil || len(out.Deleted) != 2 {
		t.Fatalf("SDK DeleteObjects with UNSIGNED-PAYLOAD: %v, %+v", err, out)
	}
	if exists("b") || exists("c") {
		t.Fatal("the SDK's DeleteObjects left its keys")
	}
}

// TestDeleteObjectsOneJournalEntry: a DeleteObjects of 1,000 keys, as the SDK
// sends it, is one journal entry (one fsync, not 1,000); the answer names every
// key, and every key is gone afterwards.
func TestDeleteObjectsOneJournalEntry(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "many")
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("photos/%04d.jpg", i)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(keys); i += 8 {
				put(t, c, "many", keys[i], []byte(keys[i]))
			}
		})
	}
	wg.Wait()

	before, err := g.node.Stats()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
	}
	out, err := c.DeleteObjects(ctxT(t), &s3.DeleteObjectsInput{Bucket: aws.String("many"), Delete: &types.Delete{Objects: ids}})
	if err != nil {
		t.Fatal(err)
	}
	after, err := g.node.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if entries := after.AppliedIndex - before.AppliedIndex; entries != 1 {
		t.Errorf("DeleteObjects of 1,000 keys took %d journal entries, want 1", entries)
	}
	if len(out.Errors) != 0 {
		t.Fatalf("DeleteObjects errors: %d, first %s: %s", len(out.Errors), aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Code))
	}
	deleted := map[string]bool{}
	for _, d := range out.Deleted {
		deleted[aws.ToString(d.Key)] = true
	}
	for _, k := range keys {
		if !deleted[k] {
			t.Fatalf("the answer does not list %s as deleted (%d listed)", k, len(out.Deleted))
		}
	}
	list, err := c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("many")})
	if err != nil || len(list.Contents) != 0 {
		t.Fatalf("listing after DeleteObjects: %v, %d objects", err, len(list.Contents))
	}
	for _, k := range keys {
		_, err := c.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String("many"), Key: aws.String(k)})
		var nsk *types.NoSuchKey
		if !errors.As(err, &nsk) {
			t.Fatalf("GET %s after DeleteObjects: %v, want NoSuchKey", k, err)
		}
	}
}
