package gateway

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/store"
)

// putBody stores an object or part body as one blob. When the client signed the
// body's SHA-256, that hash is the blob's address: the store, which hashes every
// blob anyway, checks it, instead of the body hashing the same bytes a second time
// (SHA-256 is a third of the CPU an upload costs). The store refuses a mismatch
// before anything is made durable, as the body's own check did.
func (s *Server) putBody(ctx context.Context, b *body) (store.Blob, error) {
	// The store itself, not any Blobs: a wrapper that embeds *store.Store to replace
	// Put (a test's failing disk) would otherwise be bypassed.
	st, ok := s.blobs.(*store.Store)
	if !ok || b.signed == "" || b.n > 0 {
		return s.blobs.Put(ctx, b)
	}
	var want store.Digest
	if _, err := hex.Decode(want[:], []byte(b.signed)); err != nil {
		return s.blobs.Put(ctx, b)
	}
	b.r = b.unhashed
	blob, err := st.PutVerified(ctx, b, want)
	if mismatch := (*store.DigestMismatchError)(nil); errors.As(err, &mismatch) {
		return blob, s3err.ErrXAmzContentSHA256Mismatch.WithElements(
			s3err.Element{Name: s3err.ElementClientComputedContentSHA256, Value: b.signed},
			s3err.Element{Name: s3err.ElementS3ComputedContentSHA256, Value: mismatch.Got.String()})
	}
	return blob, err
}
