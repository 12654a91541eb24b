// Package remote is the S3 side of replication: a replication.Remote over
// aws-sdk-go-v2 for AWS or any S3-compatible service (B2, Wasabi, MinIO,
// Garage, versitygw), and Check, the pre-flight test behind
// `gateway remote test`.
//
// Layout: local bucket/key is stored as prefix/bucket/key, a plain 1:1 copy
// readable with any S3 tool. The object's SHA-256, mtime, content type and
// user metadata travel with it as S3 metadata.
package remote
