// Package cors is a bucket's CORS configuration as S3 defines it
// (PutBucketCors): parsing and checking it with S3's error codes, and
// evaluating a browser's request against it, a preflight OPTIONS or an actual
// request that carries an Origin header, into the Access-Control-* response
// headers. It knows nothing of HTTP serving or of where configurations are
// stored: the gateway stores the canonical XML that Parse returns with the
// bucket in the journal.
package cors
