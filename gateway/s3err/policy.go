package s3err

import "net/http"

// Errors of ownership and bucket policies.
var (
	// ErrMalformedPolicy is a bucket policy that cannot be put; the message
	// says why.
	ErrMalformedPolicy = &APIError{"MalformedPolicy", "Policies must be valid JSON.", http.StatusBadRequest}
	// ErrNoSuchBucketPolicy answers GetBucketPolicy for a bucket without one.
	ErrNoSuchBucketPolicy = &APIError{"NoSuchBucketPolicy", "The bucket policy does not exist.", http.StatusNotFound}
	// ErrBucketAlreadyExists answers CreateBucket for another user's bucket.
	ErrBucketAlreadyExists = &APIError{"BucketAlreadyExists",
		"The requested bucket name is not available. Please select a different name and try again.", http.StatusConflict}
)
