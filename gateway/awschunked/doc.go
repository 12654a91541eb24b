// Package awschunked decodes S3 request bodies sent with Content-Encoding aws-chunked:
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signed, chained from the request's
// seed signature), STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER (chunks and a checksum
// trailer signed) and STREAMING-UNSIGNED-PAYLOAD-TRAILER (no signatures, a checksum
// trailer; what AWS SDKs and CLIs send over HTTPS). It verifies chunk and trailer
// signatures, trailer checksums (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256) and
// x-amz-decoded-content-length as the body streams through, in constant memory.
//
// Decoded bytes are handed out before the chunk that holds them is verified, because
// chunks may be 16 MiB and are never buffered whole. The body is proven only when Read
// returns io.EOF: a consumer must write to a temporary place, commit on io.EOF and
// discard on any other error. Errors are the s3err values S3 sends: IncompleteBody for
// a body cut short or framed wrongly and for a length other than the declared one,
// InvalidChunkSizeError for a chunk under 8 KiB that is not the last,
// MalformedTrailerError for trailers other than those announced in x-amz-trailer.
package awschunked
