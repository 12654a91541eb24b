package s3err

import "net/http"

// Errors of aws-chunked request bodies (x-amz-content-sha256 STREAMING-*), with the
// codes and messages S3 sends for them.
var (
	// ErrTruncatedBody is a chunked body that ends early or whose framing (chunk
	// sizes, CRLFs, chunk-signature extensions) is broken: S3 cannot tell the two
	// apart and neither can a streaming decoder.
	ErrTruncatedBody = &APIError{"IncompleteBody", "The request body terminated unexpectedly", http.StatusBadRequest}
	// ErrMalformedTrailer is a trailer section that does not carry exactly the
	// checksums announced in x-amz-trailer.
	ErrMalformedTrailer = &APIError{"MalformedTrailerError",
		"The request contained trailing data that was not well-formed or did not conform to our published schema.",
		http.StatusBadRequest}
	// ErrInvalidChunkSize is a chunk under MinChunkSize bytes that is not the last
	// one. Send it with InvalidChunkSize for the elements S3 adds.
	ErrInvalidChunkSize = &APIError{"InvalidChunkSizeError",
		"Only the last chunk is allowed to have a size less than 8192 bytes", http.StatusBadRequest}
	// ErrStreamingNotAllowed answers a STREAMING-* x-amz-content-sha256 on a request
	// other than PutObject and UploadPart.
	ErrStreamingNotAllowed = &APIError{"InvalidRequest",
		"The value of x-amz-content-sha256 header is invalid.", http.StatusBadRequest}
)

// Names of the elements of the streaming errors.
const (
	ElementChunk               = "Chunk"
	ElementBadChunkSize        = "BadChunkSize"
	ElementNumberBytesExpected = "NumberBytesExpected"
	ElementNumberBytesProvided = "NumberBytesProvided"
)
