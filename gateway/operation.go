package gateway

import "net/http"

// OperationOther names a request that is no S3 operation the gateway serves
// (an unsupported subresource, a method a path does not take).
const OperationOther = "Other"

// Operation names the S3 operation r asks for, as the S3 API reference names
// it (PutObject, ListObjectsV2, UploadPart...), for metrics and logs. It reads
// only the method, path and query, as route does, and answers for requests
// that fail authentication too, so the set of names stays small and fixed.
func (s *Server) Operation(r *http.Request) string {
	bucket, key := s.splitPath(r)
	q := r.URL.Query()
	for _, sub := range unsupported {
		if q.Has(sub) {
			return OperationOther
		}
	}
	m := r.Method
	switch {
	case bucket == "":
		return pick(m == http.MethodGet, "ListBuckets")
	case q.Has("policy") && key == "":
		switch m {
		case http.MethodGet:
			return "GetBucketPolicy"
		case http.MethodPut:
			return "PutBucketPolicy"
		case http.MethodDelete:
			return "DeleteBucketPolicy"
		}
		return OperationOther
	case q.Has("acl"):
		return pick(m == http.MethodGet, pick(key == "", "GetBucketAcl", "GetObjectAcl"))
	case q.Has("uploadId"):
		switch m {
		case http.MethodPut:
			return pick(r.Header.Get("X-Amz-Copy-Source") == "", "UploadPart", "UploadPartCopy")
		case http.MethodGet:
			return "ListParts"
		case http.MethodPost:
			return "CompleteMultipartUpload"
		case http.MethodDelete:
			return "AbortMultipartUpload"
		}
		return OperationOther
	case q.Has("uploads"):
		switch {
		case m == http.MethodGet && key == "":
			return "ListMultipartUploads"
		case m == http.MethodPost && key != "":
			return "CreateMultipartUpload"
		}
		return OperationOther
	case q.Has("tagging") && key != "":
		return bucketConfigOperation(m, "", "ObjectTagging")
	case q.Has("cors") || q.Has("tagging"):
		return bucketConfigOperation(m, key, pick(q.Has("cors"), "BucketCors", "BucketTagging"))
	case q.Has("lifecycle") && key == "":
		return lifecycleOperation(m)
	case m == http.MethodOptions:
		return "PreflightOPTIONS"
	case key == "" && q.Has("versions"):
		return pick(m == http.MethodGet, "ListObjectVersions")
	case key == "":
		return bucketOperation(r, q.Has("location"), q.Has("versioning"), q.Has("delete"), q.Get("list-type") == "2")
	}
	switch m {
	case http.MethodGet:
		return pick(!q.Has("attributes"), "GetObject", "GetObjectAttributes")
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		return pick(r.Header.Get("X-Amz-Copy-Source") == "", "PutObject", "CopyObject")
	case http.MethodDelete:
		return "DeleteObject"
	}
	return OperationOther
}

func bucketOperation(r *http.Request, location, versioning, del, v2 bool) string {
	m := r.Method
	switch {
	case location:
		return pick(m == http.MethodGet, "GetBucketLocation")
	case versioning:
		switch m {
		case http.MethodGet:
			return "GetBucketVersioning"
		case http.MethodPut:
			return "PutBucketVersioning"
		}
		return OperationOther
	case del:
		return pick(m == http.MethodPost, "DeleteObjects")
	}
	switch m {
	case http.MethodGet:
		return pick(!v2, "ListObjects", "ListObjectsV2")
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodPut:
		return "CreateBucket"
	case http.MethodDelete:
		return "DeleteBucket"
	case http.MethodPost:
		return pick(r.URL.RawQuery == "", "PostObject")
	}
	return OperationOther
}

// pick returns the first name when cond holds; with one name, OperationOther
// otherwise.
func pick(cond bool, names ...string) string {
	switch {
	case cond:
		return names[0]
	case len(names) > 1:
		return names[1]
	}
	return OperationOther
}

// bucketConfigOperation names the Put, Get or Delete of a configuration
// (BucketCors, BucketTagging, ObjectTagging).
func bucketConfigOperation(method, key, config string) string {
	if key != "" {
		return OperationOther
	}
	switch method {
	case http.MethodPut:
		return "Put" + config
	case http.MethodGet:
		return "Get" + config
	case http.MethodDelete:
		return "Delete" + config
	}
	return OperationOther
}

// lifecycleOperation names the Put, Get or Delete of a bucket's lifecycle,
// whose names S3 does not build like the other configurations'.
func lifecycleOperation(method string) string {
	switch method {
	case http.MethodPut:
		return "PutBucketLifecycleConfiguration"
	case http.MethodGet:
		return "GetBucketLifecycleConfiguration"
	case http.MethodDelete:
		return "DeleteBucketLifecycle"
	}
	return OperationOther
}
