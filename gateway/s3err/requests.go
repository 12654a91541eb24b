package s3err

import "net/http"

// Errors of request semantics: part numbers, metadata, listings, locations.
var (
	ErrMetadataTooLarge = &APIError{"MetadataTooLarge",
		"Your metadata headers exceed the maximum allowed metadata size", http.StatusBadRequest}
	// ErrInvalidPartNumber answers a GET or HEAD ?partNumber past the object's parts.
	ErrInvalidPartNumber = &APIError{"InvalidPartNumber",
		"The requested partnumber is not satisfiable.", http.StatusRequestedRangeNotSatisfiable}
	ErrInvalidLocationConstraint = &APIError{"InvalidLocationConstraint",
		"The specified location-constraint is not valid", http.StatusBadRequest}
)

// NegativeArgument is the InvalidArgument S3 sends for a negative max-keys,
// max-parts, max-uploads or part-number-marker.
func NegativeArgument(value string) *APIError {
	return ErrInvalidArgument.WithMessage("Argument " + value + " must be an integer between 0 and 2147483647")
}

// NotAnInteger is the InvalidArgument S3 sends for a max-keys (or similar) that is
// not a 32-bit integer.
func NotAnInteger(value string) *APIError {
	return ErrInvalidArgument.WithMessage("Provided " + value + " not an integer or within integer range")
}

// ErrInvalidRedirectLocation refuses an x-amz-website-redirect-location that is
// neither a path nor an http(s) URL.
var ErrInvalidRedirectLocation = &APIError{"InvalidRedirectLocation",
	"The website redirect location must have a prefix of 'http://' or 'https://' or '/'.", http.StatusBadRequest}
