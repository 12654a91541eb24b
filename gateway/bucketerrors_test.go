package gateway

import (
	"io"
	"testing"
	"time"
)

// TestBucketErrorsNameTheBucket: the bucket errors carry S3's message and a
// BucketName element, as S3 (us-east-1 included) writes them.
func TestBucketErrorsNameTheBucket(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "mine")
	put(t, c, "mine", "k", []byte("x"))
	hc := g.httpClient()
	for _, tc := range []struct {
		method, path    string
		status          int
		code, msg, name string
	}{
		{"PUT", "/mine", 409, "BucketAlreadyOwnedByYou",
			"Your previous request to create the named bucket succeeded and you already own it.", "mine"},
		{"DELETE", "/mine", 409, "BucketNotEmpty", "The bucket you tried to delete is not empty.", "mine"},
		{"GET", "/nope", 404, "NoSuchBucket", "The specified bucket does not exist.", "nope"},
		{"GET", "/mine?cors", 404, "NoSuchCORSConfiguration", "The CORS configuration does not exist", "mine"},
		{"GET", "/mine/nokey", 404, "NoSuchKey", "The specified key does not exist.", ""},
	} {
		resp, err := hc.Do(signed(t, tc.method, g.URL+tc.path, nil, testAccessKey, testSecret, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		doc := errorDoc(t, body)
		if resp.StatusCode != tc.status || doc["Code"] != tc.code || doc["Message"] != tc.msg || doc["BucketName"] != tc.name {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
}
