package gateway

import (
	"net/http/httptest"
	"testing"
)

func TestOperation(t *testing.T) {
	s := &Server{cfg: Config{Domain: "s3.home.arpa"}}
	for _, tc := range []struct {
		method, target, copySource, host string
		want                             string
	}{
		{"GET", "/", "", "", "ListBuckets"},
		{"POST", "/", "", "", OperationOther},
		{"PUT", "/photos", "", "", "CreateBucket"},
		{"HEAD", "/photos", "", "", "HeadBucket"},
		{"DELETE", "/photos", "", "", "DeleteBucket"},
		{"GET", "/photos", "", "", "ListObjects"},
		{"GET", "/photos?list-type=2&prefix=a", "", "", "ListObjectsV2"},
		{"GET", "/photos?location", "", "", "GetBucketLocation"},
		{"GET", "/photos?versioning", "", "", "GetBucketVersioning"},
		{"PUT", "/photos?versioning", "", "", "PutBucketVersioning"},
		{"GET", "/photos?versions", "", "", "ListObjectVersions"},
		{"POST", "/photos?delete", "", "", "DeleteObjects"},
		{"GET", "/photos?acl", "", "", "GetBucketAcl"},
		{"GET", "/photos/a.jpg?acl", "", "", "GetObjectAcl"},
		{"GET", "/photos?uploads", "", "", "ListMultipartUploads"},
		{"POST", "/photos/a.jpg?uploads", "", "", "CreateMultipartUpload"},
		{"PUT", "/photos/a.jpg?uploadId=u&partNumber=1", "", "", "UploadPart"},
		{"PUT", "/photos/a.jpg?uploadId=u&partNumber=1", "/photos/b", "", "UploadPartCopy"},
		{"GET", "/photos/a.jpg?uploadId=u", "", "", "ListParts"},
		{"POST", "/photos/a.jpg?uploadId=u", "", "", "CompleteMultipartUpload"},
		{"DELETE", "/photos/a.jpg?uploadId=u", "", "", "AbortMultipartUpload"},
		{"GET", "/photos/a.jpg", "", "", "GetObject"},
		{"GET", "/photos/a.jpg?attributes", "", "", "GetObjectAttributes"},
		{"HEAD", "/photos/a.jpg", "", "", "HeadObject"},
		{"PUT", "/photos/a.jpg", "", "", "PutObject"},
		{"PUT", "/photos/a.jpg", "/photos/b", "", "CopyObject"},
		{"DELETE", "/photos/a.jpg", "", "", "DeleteObject"},
		{"PUT", "/photos/a.jpg?tagging", "", "", "PutObjectTagging"}, {"GET", "/photos?tagging", "", "", "GetBucketTagging"},
		{"OPTIONS", "/photos/a.jpg", "", "", "PreflightOPTIONS"}, {"DELETE", "/photos?cors", "", "", "DeleteBucketCors"},
		{"POST", "/photos", "", "", "PostObject"}, {"PUT", "/photos/a.jpg?cors", "", "", OperationOther},
		{"PATCH", "/photos/a.jpg", "", "", OperationOther},
		{"PUT", "/photos?lifecycle", "", "", "PutBucketLifecycleConfiguration"},
		{"GET", "/photos?lifecycle", "", "", "GetBucketLifecycleConfiguration"},
		{"DELETE", "/photos?lifecycle", "", "", "DeleteBucketLifecycle"},
		// Virtual-host style: the bucket is in the Host.
		{"PUT", "/a.jpg", "", "photos.s3.home.arpa", "PutObject"},
		{"GET", "/", "", "photos.s3.home.arpa", "ListObjects"},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.copySource != "" {
			r.Header.Set("X-Amz-Copy-Source", tc.copySource)
		}
		if tc.host != "" {
			r.Host = tc.host
		}
		if got := s.Operation(r); got != tc.want {
			t.Errorf("%s %s (host %q): %s, want %s", tc.method, tc.target, tc.host, got, tc.want)
		}
	}
}
