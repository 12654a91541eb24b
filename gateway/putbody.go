package gateway

import (
	"context"
	"errors"
	"io"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/store"
)

// putBody stores an object or part body as one blob. When the client signed the
// body's SHA-256, that hash is the blob's address: the store, which hashes every
// blob anyway, checks it, instead of the body hashing the same bytes a second time
// (SHA-256 is a third of the CPU an upload costs). A Content-MD5 is checked the
// same way, against the MD5 the store computes for the ETag (MD5 is the costliest
// hash of an upload: rclone and s3cmd send one with every part). The store
// refuses a mismatch before anything is made durable, as the body's own check did.
func (s *Server) putBody(ctx context.Context, b *body) (store.Blob, error) {
	var e store.Expected
	if b.signed != "" && b.n == 0 {
		if want, err := archive.ParseDigest(b.signed); err == nil {
			e.SHA256 = &want
			b.r = b.unhashed
		}
	}
	p, expects := s.objects.(expectingPut)
	if expects && b.md5 != nil && b.n == 0 {
		e.MD5, b.md5 = b.wantMD5, nil
	}
	var blob store.Blob
	var err error
	switch {
	case e.MD5 != nil:
		blob, err = p.PutExpected(ctx, b, e)
	case e.SHA256 != nil:
		blob, err = s.objects.PutVerified(ctx, b, *e.SHA256)
	default:
		return s.objects.Put(ctx, b)
	}
	if errors.Is(err, store.ErrMD5Mismatch) {
		return blob, s3err.ErrBadDigest
	}
	return blob, b.payloadMismatch(err)
}

// expectingPut is the archive's PutExpected (*archive.Archive): a body stored
// while the store checks its claimed SHA-256 and MD5.
type expectingPut interface {
	PutExpected(ctx context.Context, r io.Reader, e store.Expected) (store.Blob, error)
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

// stageBody stores a small object body without waiting for the disk: it is
// read into memory and staged (archive.Archive.Stage), and the caller commits
// it with its bytes, whose journal fsync then makes the object durable.
// handled is false when the body is not small or the archive cannot stage:
// the caller then uses putBody. inline is what the journal entry must carry,
// nil when an identical blob was durable already.
func (s *Server) stageBody(ctx context.Context, b *body) (blob store.Blob, inline []byte, handled bool, err error) {
	if b.size <= 0 || b.size > s.cfg.InlineMax || b.n > 0 || !s.objects.Inlines() {
		return store.Blob{}, nil, false, nil
	}
	var want store.Digest
	verify := false
	if b.signed != "" {
		if d, err := archive.ParseDigest(b.signed); err == nil {
			want, verify = d, true
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
	if verify {
		blob, inline, err = s.objects.StageVerified(ctx, buf[:n], want)
	} else {
		blob, inline, err = s.objects.Stage(ctx, buf[:n])
	}
	if err != nil {
		return store.Blob{}, nil, true, b.payloadMismatch(err)
	}
	return blob, inline, true, nil
}
