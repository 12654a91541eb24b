package gateway

import (
	"context"
	"encoding/hex"
	"errors"
	"io"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
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
	return blob, b.payloadMismatch(err)
}

// payloadMismatch turns the store's refusal of content that does not hash to
// the signed payload SHA-256 into S3's error.
func (b *body) payloadMismatch(err error) error {
	if mismatch := (*store.DigestMismatchError)(nil); errors.As(err, &mismatch) {
		return s3err.ErrXAmzContentSHA256Mismatch.WithElements(
			s3err.Element{Name: s3err.ElementClientComputedContentSHA256, Value: b.signed},
			s3err.Element{Name: s3err.ElementS3ComputedContentSHA256, Value: mismatch.Got.String()})
	}
	return err
}

// inlineIndex is an Index that journals a small object with its bytes
// (*queue.Node opened with queue.Config.Inline).
type inlineIndex interface {
	PutObjectInline(ctx context.Context, o queue.Object, data []byte) error
	Inlines() bool
}

// stageBody stores a small object body without waiting for the disk: it is
// read into memory and staged (store.Stage), and the caller journals it with
// its bytes (queue.Node.PutObjectInline), whose one fsync then makes the
// object durable. handled is false when the body is not small or the index
// or the store cannot stage: the caller then uses putBody. data is what the
// journal entry must carry, nil when an identical blob was durable already.
func (s *Server) stageBody(ctx context.Context, b *body) (blob store.Blob, data []byte, handled bool, err error) {
	st, isStore := s.blobs.(*store.Store) // not a test's wrapper: see putBody
	idx, isInline := s.idx.(inlineIndex)
	if !isStore || !isInline || !idx.Inlines() || b.size <= 0 || b.size > s.cfg.InlineMax || b.n > 0 {
		return store.Blob{}, nil, false, nil
	}
	var want *store.Digest
	if b.signed != "" {
		var d store.Digest
		if _, err := hex.Decode(d[:], []byte(b.signed)); err == nil {
			want = &d
			b.r = b.unhashed // the store's SHA-256 checks it
		}
	}
	// One byte more than declared, so that the body's end is read and checked
	// (its length, Content-MD5, checksums) whatever a client sends.
	buf := make([]byte, b.size+1)
	n, err := io.ReadFull(b, buf)
	switch {
	case err == nil:
		// More than declared: read on to the end, whose check names the
		// sizes (aws-chunked), without keeping any of it.
		if _, err := io.Copy(io.Discard, b); err != nil {
			return store.Blob{}, nil, true, err
		}
		return store.Blob{}, nil, true, s3err.ErrIncompleteBody
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return store.Blob{}, nil, true, err
	case int64(n) != b.size:
		return store.Blob{}, nil, true, s3err.ErrIncompleteBody
	}
	blob, staged, err := st.Stage(ctx, buf[:n], want)
	if err != nil {
		return store.Blob{}, nil, true, b.payloadMismatch(err)
	}
	if staged {
		data = buf[:n]
	}
	return blob, data, true, nil
}
