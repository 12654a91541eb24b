package sigv4

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The examples of the S3 API reference ("Signature Calculations for the Authorization
// Header" and "Query String Authentication"), an independent check of the canonical
// request beyond the SDK round trips.
const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docDate      = "20130524T000000Z"
	docEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func docVerifier(t *testing.T) *Verifier {
	t.Helper()
	v := NewVerifier(StaticCredentials{docAccessKey: docSecret})
	signed, err := time.Parse(amzDateFormat, docDate)
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return signed.Add(time.Minute) }
	return v
}

func docAuth(signedHeaders, sig string) string {
	return "AWS4-HMAC-SHA256 Credential=" + docAccessKey + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=" +
		signedHeaders + ",Signature=" + sig
}

func TestVerifyAWSDocExamples(t *testing.T) {
	cases := []struct {
		name   string
		method string
		target string
		host   string
		header map[string]string
		body   string
	}{
		{name: "GET object", method: "GET", target: "/test.txt", host: "examplebucket.s3.amazonaws.com",
			header: map[string]string{
				"Range": "bytes=0-9", "X-Amz-Content-Sha256": docEmptyHash, "X-Amz-Date": docDate,
				"Authorization": docAuth("host;range;x-amz-content-sha256;x-amz-date",
					"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
			}},
		{name: "PUT object", method: "PUT", target: "/test$file.text", host: "examplebucket.s3.amazonaws.com",
			body: "Welcome to Amazon S3.",
			header: map[string]string{
				"Date":                 "Fri, 24 May 2013 00:00:00 GMT",
				"X-Amz-Date":           docDate,
				"X-Amz-Storage-Class":  "REDUCED_REDUNDANCY",
				"X-Amz-Content-Sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
				"Authorization": docAuth("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
					"98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
			}},
		{name: "GET bucket lifecycle", method: "GET", target: "/?lifecycle", host: "examplebucket.s3.amazonaws.com",
			header: map[string]string{
				"X-Amz-Content-Sha256": docEmptyHash, "X-Amz-Date": docDate,
				"Authorization": docAuth("host;x-amz-content-sha256;x-amz-date",
					"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
			}},
		{name: "list objects", method: "GET", target: "/?max-keys=2&prefix=J", host: "examplebucket.s3.amazonaws.com",
			header: map[string]string{
				"X-Amz-Content-Sha256": docEmptyHash, "X-Amz-Date": docDate,
				"Authorization": docAuth("host;x-amz-content-sha256;x-amz-date",
					"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
			}},
		{name: "presigned GET", method: "GET", host: "examplebucket.s3.amazonaws.com",
			target: "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
				"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
				"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"},
		{name: "streaming PUT seed", method: "PUT", target: "/examplebucket/chunkObject.txt", host: "s3.amazonaws.com",
			header: map[string]string{
				"X-Amz-Date": docDate, "X-Amz-Storage-Class": "REDUCED_REDUNDANCY",
				"X-Amz-Content-Sha256": StreamingPayload, "Content-Encoding": "aws-chunked",
				"X-Amz-Decoded-Content-Length": "66560", "Content-Length": "66824",
				"Authorization": docAuth("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
					"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			r.Host = tc.host
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			res, err := docVerifier(t).Verify(r)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if res.AccessKey != docAccessKey || res.Scope.String() != "20130524/us-east-1/s3/aws4_request" {
				t.Fatalf("result %+v", res)
			}
			// One changed byte anywhere in the signed header set must fail.
			r.Host = "other" + tc.host
			if _, err := docVerifier(t).Verify(r); codeOf(err) != "SignatureDoesNotMatch" {
				t.Fatalf("tampered host: got %v", err)
			}
		})
	}
}

func TestResultRedactsSigningKey(t *testing.T) {
	r := httptest.NewRequest("GET", "/test.txt", nil)
	r.Host = "examplebucket.s3.amazonaws.com"
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("X-Amz-Content-Sha256", docEmptyHash)
	r.Header.Set("X-Amz-Date", docDate)
	r.Header.Set("Authorization", docAuth("host;range;x-amz-content-sha256;x-amz-date",
		"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))
	res, err := docVerifier(t).Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{sprintf("%v", res), sprintf("%+v", *res), sprintf("%s", res.SigningKey)} {
		if strings.Contains(s, docSecret) || !strings.Contains(s, "[redacted]") {
			t.Fatalf("printed result %q", s)
		}
	}
}
