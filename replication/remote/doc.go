// Package remote is the S3 side of replication: a replication.Remote over
// aws-sdk-go-v2 for AWS or any S3-compatible service (B2, Wasabi, MinIO,
// Garage, versitygw), and Check, the pre-flight test behind
// `gateway remote test`.
//
// Layout (docs/remote-layout.md): local bucket/key is stored as
// prefix/bucket/key, a plain 1:1 copy readable with any S3 tool; its
// content headers are real headers and everything else a restore needs
// (SHA-256, size, ETag, mtime, checksums, part sizes, user metadata) is
// S3 metadata, encoded by replication.EncodeObjectMeta. IPAS's own files
// live under prefix/.ipas/.
package remote
