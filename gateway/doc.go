// Package gateway is IPAS's S3 HTTP front end. Every request is authenticated with
// SigV4 (header or presigned URL); bodies are decoded (aws-chunked in all its variants)
// and verified (payload hash, chunk signatures, Content-MD5, x-amz-checksum-* headers
// and trailers) while they stream into the blob store, and an object becomes visible
// only once its blob is durable and its index entry is committed to the journal.
// Checksums follow S3 (package checksum): one algorithm per object or upload, a
// CRC64NVME when the client sends none, COMPOSITE or FULL_OBJECT multipart checksums
// derived from the parts' at completion, returned only for whole objects with
// x-amz-checksum-mode: ENABLED.
//
// The gateway serves buckets, listings, objects, copies and multipart uploads with its
// own handlers and uses github.com/johannesboyne/gofakes3 for its S3 XML message types:
// gofakes3's own router stores request headers as metadata, keeps multipart parts in
// RAM and lets ?tagging and ?acl overwrite object data, so no request reaches it.
// Subresources the gateway does not implement answer 501 NotImplemented without
// touching data. Errors are rendered only by s3err.WriteError.
package gateway
