package s3err

import "errors"

// Names of the extra elements AWS adds to some error documents. SDKs and tools read
// them (an SDK redirects to the Region of an AuthorizationHeaderMalformed, for one).
const (
	ElementAWSAccessKeyID              = "AWSAccessKeyId"
	ElementArgumentName                = "ArgumentName"
	ElementArgumentValue               = "ArgumentValue"
	ElementRegion                      = "Region"
	ElementHeadersNotSigned            = "HeadersNotSigned"
	ElementXAmzExpires                 = "X-Amz-Expires"
	ElementExpires                     = "Expires"
	ElementServerTime                  = "ServerTime"
	ElementRequestTime                 = "RequestTime"
	ElementMaxAllowedSkewMilliseconds  = "MaxAllowedSkewMilliseconds"
	ElementClientComputedContentSHA256 = "ClientComputedContentSHA256"
	ElementS3ComputedContentSHA256     = "S3ComputedContentSHA256"
	ElementStorageClass                = "StorageClass"
)

// TimeFormat is how times appear in error elements (ServerTime, Expires): ISO 8601
// in UTC, as S3 writes them.
const TimeFormat = "2006-01-02T15:04:05Z"

// Element is one extra child of an error document, written after Message. Name must
// be a valid XML name (use the Element* constants); Value must never be a secret.
type Element struct {
	Name  string
	Value string
}

// DetailedError is an APIError sent with extra elements. It matches its APIError
// under errors.Is and errors.As, so code that only needs the code or the status
// treats it as the plain error.
type DetailedError struct {
	*APIError
	Elements []Element
}

// WithElements returns e with extra elements, in the order given. e is not modified.
func (e *APIError) WithElements(elements ...Element) *DetailedError {
	return &DetailedError{APIError: e, Elements: elements}
}

// Unwrap returns the APIError, for errors.As.
func (e *DetailedError) Unwrap() error { return e.APIError }

// resolve returns the APIError and extra elements to send for err: InternalError
// without elements for anything that is not (or does not wrap) an APIError.
func resolve(err error) (*APIError, []Element) {
	var d *DetailedError
	if errors.As(err, &d) && d != nil && d.APIError != nil {
		return d.APIError, d.Elements
	}
	var e *APIError
	if errors.As(err, &e) && e != nil {
		return e, nil
	}
	return ErrInternalError, nil
}
