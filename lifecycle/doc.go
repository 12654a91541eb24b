// Package lifecycle is a bucket's lifecycle configuration as S3 defines it
// (PutBucketLifecycleConfiguration), limited to the rules a backup needs:
// expiring noncurrent versions (NoncurrentVersionExpiration), removing
// expired delete markers (Expiration with ExpiredObjectDeleteMarker), and
// aborting incomplete multipart uploads (AbortIncompleteMultipartUpload),
// filtered by key prefix. Parse checks a configuration with S3's error codes
// and refuses every other element with NotImplemented, naming it, so that no
// rule is ever accepted and then silently not applied.
//
// The package also decides, for one key's version history or one upload,
// what the enabled rules remove (Configuration.Expire, Configuration.AbortAfter),
// and runs the background pass that applies them to every bucket with a
// configuration through a narrow Journal (Pass). The gateway stores the
// canonical XML that Marshal returns with the bucket in the journal, and
// renders Parse's refusals (*Error) through their S3Error method.
package lifecycle
