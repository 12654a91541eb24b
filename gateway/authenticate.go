package gateway

import (
	"github.com/ipas/ipas/gateway/awschunked"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv2"
	"github.com/ipas/ipas/gateway/sigv4"
)

// errSigV2Chunked refuses a signed aws-chunked body under SigV2, which has no
// signing key to verify its chunks with.
var errSigV2Chunked = s3err.ErrInvalidRequest.WithMessage(
	"Signed aws-chunked bodies need a Signature Version 4 request signature.")

// authenticate verifies r's signature: SigV2 where the client signed with
// it (the aws CLI v1's and boto3's presigned URLs), SigV4 otherwise. A SigV2
// request's payload is unsigned, as in S3; Content-MD5, which it signs, is
// checked against the body.
func (s *Server) authenticate(r *request) (*sigv4.Result, error) {
	if !sigv2.Is(r.Request) {
		return s.verifier.Verify(r.Request)
	}
	if mode, ok := awschunked.ModeOf(r.Header.Get("X-Amz-Content-Sha256")); ok &&
		(mode == awschunked.Signed || mode == awschunked.SignedTrailer) {
		return nil, errSigV2Chunked
	}
	vhost, _ := s.virtualHostBucket(r.Host)
	res, err := s.verifierV2.Verify(r.Request, vhost)
	if err != nil {
		return nil, err
	}
	return &sigv4.Result{AccessKey: res.AccessKey, Presigned: res.Presigned, Time: res.Time,
		PayloadHash: sigv4.UnsignedPayload, SignedHeaders: res.SignedHeaders}, nil
}
