package lifecycle

import "net/http"

// Error is a configuration S3 refuses: the code, HTTP status and message a
// client sees, which the gateway renders (S3Error).
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return "lifecycle: " + e.Code + ": " + e.Message }

// S3Error returns what the gateway answers.
func (e *Error) S3Error() (code string, status int, message string) {
	return e.Code, e.Status, e.Message
}

// errMalformedXML is a document that does not parse or does not follow
// S3's schema, in S3's words.
var errMalformedXML = &Error{"MalformedXML", http.StatusBadRequest,
	"The XML you provided was not well-formed or did not validate against our published schema."}

func invalidArgument(msg string) *Error { return &Error{"InvalidArgument", http.StatusBadRequest, msg} }

// errNoAction is S3's answer to a rule that does nothing.
var errNoAction = &Error{"InvalidRequest", http.StatusBadRequest, "At least one action needs to be specified in a rule"}

// notImplemented is the answer to an element of S3's lifecycle that the
// gateway does not apply.
func notImplemented(element string) *Error {
	return &Error{"NotImplemented", http.StatusNotImplemented, "The lifecycle element " + element +
		" is not implemented by this gateway: only NoncurrentVersionExpiration, Expiration with ExpiredObjectDeleteMarker and AbortIncompleteMultipartUpload, filtered by Prefix, are applied."}
}
