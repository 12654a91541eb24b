package s3err

import (
	"errors"
	"net/http"
)

// APIError is an S3 error response: the machine-readable Code clients switch on, a
// human-readable Message and the HTTP Status it is sent with.
type APIError struct {
	Code    string
	Message string
	Status  int
}

// Error implements error. It never contains more than the client would see.
func (e *APIError) Error() string {
	return "s3: " + e.Code + ": " + e.Message
}

// Is reports whether target is an APIError with the same Code, so that an error built
// with WithMessage still matches the table value it came from:
// errors.Is(ErrInvalidArgument.WithMessage("x"), ErrInvalidArgument) is true.
func (e *APIError) Is(target error) bool {
	var t *APIError
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}

// WithMessage returns a copy of e with a more specific message. The table values are
// shared, so they are never modified in place.
func (e *APIError) WithMessage(msg string) *APIError {
	c := *e
	c.Message = msg
	return &c
}

// The S3 errors the gateway returns. Codes, statuses and, where AWS documents one, the
// default messages follow the S3 API reference ("Error responses").
var (
	ErrAccessDenied = &APIError{"AccessDenied", "Access Denied.", http.StatusForbidden}
	// ErrRequestExpired is what S3 returns for a presigned URL past X-Amz-Date +
	// X-Amz-Expires: AccessDenied with this message (ExpiredToken is for STS session
	// tokens, which the gateway does not issue).
	ErrRequestExpired = &APIError{"AccessDenied", "Request has expired.", http.StatusForbidden}
	// ErrRequestNotYetValid is AccessDenied for a presigned URL dated in the future.
	ErrRequestNotYetValid = &APIError{"AccessDenied", "Request is not valid yet.", http.StatusForbidden}

	ErrSignatureDoesNotMatch = &APIError{"SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
		http.StatusForbidden}
	ErrInvalidAccessKeyID = &APIError{"InvalidAccessKeyId",
		"The AWS Access Key Id you provided does not exist in our records.", http.StatusForbidden}
	ErrRequestTimeTooSkewed = &APIError{"RequestTimeTooSkewed",
		"The difference between the request time and the server's time is too large.", http.StatusForbidden}

	ErrAuthorizationHeaderMalformed = &APIError{"AuthorizationHeaderMalformed",
		"The authorization header that you provided is not valid.", http.StatusBadRequest}
	ErrAuthorizationQueryParametersError = &APIError{"AuthorizationQueryParametersError",
		"The authorization query parameters that you provided are not valid.", http.StatusBadRequest}
	ErrMissingSecurityHeader = &APIError{"MissingSecurityHeader",
		"Your request is missing a required header.", http.StatusBadRequest}

	// ErrIncompleteBody is a body shorter or longer than its declared length
	// (Content-Length, x-amz-decoded-content-length); S3's message has no full stop.
	ErrIncompleteBody = &APIError{"IncompleteBody",
		"You did not provide the number of bytes specified by the Content-Length HTTP header", http.StatusBadRequest}
	ErrBadDigest = &APIError{"BadDigest",
		"The Content-MD5 or checksum value that you specified did not match what the server received.", http.StatusBadRequest}
	ErrInvalidDigest = &APIError{"InvalidDigest",
		"The Content-MD5 or checksum value that you specified is not valid.", http.StatusBadRequest}
	ErrXAmzContentSHA256Mismatch = &APIError{"XAmzContentSHA256Mismatch",
		"The provided 'x-amz-content-sha256' header does not match what was computed.", http.StatusBadRequest}
	ErrInvalidRequest       = &APIError{"InvalidRequest", "Invalid Request.", http.StatusBadRequest}
	ErrInvalidArgument      = &APIError{"InvalidArgument", "Invalid Argument.", http.StatusBadRequest}
	ErrMissingContentLength = &APIError{"MissingContentLength",
		"You must provide the Content-Length HTTP header.", http.StatusLengthRequired}
	ErrEntityTooLarge = &APIError{"EntityTooLarge",
		"Your proposed upload exceeds the maximum allowed object size.", http.StatusBadRequest}
	ErrRequestTimeout = &APIError{"RequestTimeout",
		"Your socket connection to the server was not read from or written to within the timeout period.",
		http.StatusBadRequest}

	ErrNotImplemented = &APIError{"NotImplemented",
		"A header you provided implies functionality that is not implemented.", http.StatusNotImplemented}
	ErrInternalError = &APIError{"InternalError",
		"We encountered an internal error. Please try again.", http.StatusInternalServerError}
	ErrSlowDown = &APIError{"SlowDown", "Please reduce your request rate.", http.StatusServiceUnavailable}
	// ErrInsufficientStorage reports a full local disk. AWS S3 has no such code; MinIO
	// sends XMinioStorageFull. We use the plain RFC 4918 name of status 507 so clients
	// and logs show what happened; AWS SDKs do not retry 507, which is what we want
	// until space is freed. The message says what fills the disk and how to free it.
	ErrInsufficientStorage = &APIError{"InsufficientStorage",
		"The gateway's disk is full: the objects, incomplete multipart uploads and journal in its data directory fill it. " +
			"To free space, delete objects or abort incomplete multipart uploads (their space is reclaimed within seconds), " +
			"or move the data directory to a larger disk.", http.StatusInsufficientStorage}

	ErrNoSuchKey      = &APIError{"NoSuchKey", "The specified key does not exist.", http.StatusNotFound}
	ErrNoSuchBucket   = &APIError{"NoSuchBucket", "The specified bucket does not exist.", http.StatusNotFound}
	ErrBucketNotEmpty = &APIError{"BucketNotEmpty",
		"The bucket you tried to delete is not empty.", http.StatusConflict}
	// ErrBucketAlreadyOwnedByYou carries the message S3 sends, not the one its
	// error table documents.
	ErrBucketAlreadyOwnedByYou = &APIError{"BucketAlreadyOwnedByYou",
		"Your previous request to create the named bucket succeeded and you already own it.", http.StatusConflict}
	ErrInvalidBucketName = &APIError{"InvalidBucketName",
		"The specified bucket is not valid.", http.StatusBadRequest}
	ErrKeyTooLongError    = &APIError{"KeyTooLongError", "Your key is too long.", http.StatusBadRequest}
	ErrPreconditionFailed = &APIError{"PreconditionFailed",
		"At least one of the pre-conditions you specified did not hold.", http.StatusPreconditionFailed}
	// ErrConditionalRequestConflict answers a conditional write that a concurrent
	// write to the same key overtook in a way its condition cannot judge (an
	// If-Match whose object was deleted while the body was on its way).
	ErrConditionalRequestConflict = &APIError{"ConditionalRequestConflict",
		"A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.",
		http.StatusConflict}
	ErrInvalidRange = &APIError{"InvalidRange",
		"The requested range is not satisfiable", http.StatusRequestedRangeNotSatisfiable}
	// ErrNotModified answers a GET or HEAD whose If-None-Match or If-Modified-Since
	// condition holds; it is sent as a bare 304 without a body.
	ErrNotModified = &APIError{"NotModified", "Not Modified", http.StatusNotModified}

	ErrMethodNotAllowed = &APIError{"MethodNotAllowed",
		"The specified method is not allowed against this resource.", http.StatusMethodNotAllowed}
	ErrMalformedXML = &APIError{"MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema.",
		http.StatusBadRequest}
	ErrNoSuchVersion = &APIError{"NoSuchVersion",
		"The specified version does not exist.", http.StatusNotFound}
	ErrNoSuchUpload = &APIError{"NoSuchUpload",
		"The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
		http.StatusNotFound}
	// ErrInvalidPart's message is S3's own, double space included.
	ErrInvalidPart = &APIError{"InvalidPart",
		"One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
		http.StatusBadRequest}
	ErrInvalidPartOrder = &APIError{"InvalidPartOrder",
		"The list of parts was not in ascending order. Parts must be ordered by part number.",
		http.StatusBadRequest}
	ErrEntityTooSmall = &APIError{"EntityTooSmall",
		"Your proposed upload is smaller than the minimum allowed size", http.StatusBadRequest}
	// ErrInvalidObjectState is S3's answer to a GET or a copy of an object whose
	// bytes are not at hand (an archived GLACIER object); sent with a
	// StorageClass element, as S3 does.
	ErrInvalidObjectState = &APIError{"InvalidObjectState",
		"The operation is not valid for the object's storage class", http.StatusForbidden}
)
