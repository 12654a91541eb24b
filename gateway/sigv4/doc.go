// Package sigv4 authenticates incoming S3 requests signed with AWS Signature Version 4,
// either in the Authorization header or as a presigned URL (X-Amz-* query parameters),
// against a set of access keys. It rebuilds the canonical request exactly as S3 does
// (no path normalisation, no double encoding), bounds clock skew and presign expiry,
// and compares signatures in constant time. Failures are s3err values.
//
// A verified request yields a Result: the access key plus what a body decoder needs to
// check aws-chunked chunk signatures (signing key, seed signature, scope, date). For a
// body whose SHA-256 was signed as hex, NewPayloadReader checks it at EOF.
//
// Only SigV4 (AWS4-HMAC-SHA256) is verified here: SigV2 is package sigv2's (the gateway
// sends SigV2 requests there first), SigV4a (ECDSA) is rejected. Secrets are never
// logged or put into errors.
package sigv4
