// Package sigv2 authenticates S3 requests signed with AWS Signature Version 2
// (HMAC-SHA1), in the Authorization header ("AWS AccessKeyId:Signature") or as a
// presigned URL (AWSAccessKeyId, Expires, Signature), which the aws CLI v1 and
// boto3 still make by default. It rebuilds the string to sign as S3 does (verb,
// Content-MD5, Content-Type, Date or Expires, the x-amz-* headers, the resource
// with its signed sub-resources), bounds clock skew, enforces expiry and compares
// signatures in constant time. It checks the signature only: the body layer
// checks Content-MD5 against the bytes. Failures are s3err values; secrets are
// never logged or put into errors.
package sigv2
