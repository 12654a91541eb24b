// Package postpolicy is the policy document of an S3 browser-form upload (POST
// object): parsing the base64 JSON document with S3's errors, and checking a
// form's fields and its file's size against the document's expiration and
// conditions (eq, starts-with, content-length-range, and the {"field": "value"}
// shorthand). Every form field but the signature, the policy, the file and
// x-ignore-* ones must be named by a condition, as S3 requires. Signatures are
// the gateway's business; this package only reads the document they sign.
package postpolicy
