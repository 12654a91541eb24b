package store

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. Callers test them with errors.Is; the store always wraps them with
// the operation and the path or digest involved.
var (
	// ErrNotFound means no committed blob has the requested digest.
	ErrNotFound = errors.New("store: blob not found")
	// ErrCorrupt means a blob's bytes on disk do not match its address or its expected
	// size. The concrete error is a *CorruptError.
	ErrCorrupt = errors.New("store: blob corrupt")
	// ErrNoSpace means the data directory's filesystem is full (ENOSPC or EDQUOT).
	// The temp file of the failed write has been removed.
	ErrNoSpace = errors.New("store: no space left on device")
	// ErrNotWritable means the data directory cannot be created or written.
	ErrNotWritable = errors.New("store: data directory not writable")
	// ErrInvalidRange means a read range lies outside the blob.
	ErrInvalidRange = errors.New("store: invalid range")
	// ErrClosed means the store is not open.
	ErrClosed = errors.New("store: closed")
	// ErrLocked means another process (or another Store value) has the data directory open.
	ErrLocked = errors.New("store: data directory in use")
	// ErrDigestMismatch means content given to PutVerified does not hash to the
	// digest the caller expected. Nothing was stored.
	ErrDigestMismatch = errors.New("store: content does not match the expected digest")
	// ErrMD5Mismatch means content given to PutExpected does not have the MD5
	// the caller expected (a Content-MD5). Nothing was stored.
	ErrMD5Mismatch = errors.New("store: content does not match the expected MD5")
)

// CorruptError reports a blob whose file does not hold what its address promises.
// It matches ErrCorrupt with errors.Is.
type CorruptError struct {
	Path   string // file on disk
	Digest Digest // the blob's address
	Reason string // what is wrong, e.g. "size 10, expected 20 (truncated)"
	Hint   string // how to fix it
}

// Error names the file, the problem and the fix.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("store: blob %s is corrupt: %s: %s; fix: %s", e.Digest, e.Path, e.Reason, e.Hint)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func newCorruptError(path string, d Digest, reason string) *CorruptError {
	return &CorruptError{
		Path:   path,
		Digest: d,
		Reason: reason,
		Hint: "delete " + path + " and restore the object from the remote bucket " +
			"(or upload it again); the other blobs are not affected",
	}
}

// isNoSpace reports whether err is the filesystem telling us it is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// wrapNoSpace adds ErrNoSpace to the chain of a full-disk error so callers (the S3 layer
// turning it into a 507) need not know about errno values.
func wrapNoSpace(err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) || !isNoSpace(err) {
		return err
	}
	return &noSpaceError{err: err}
}

// noSpaceError keeps the message of the failed operation and adds the fix.
type noSpaceError struct{ err error }

func (e *noSpaceError) Error() string {
	return e.err.Error() + "; fix: free space on the filesystem of the data directory, " +
		"or move the data directory to a larger disk"
}

func (e *noSpaceError) Unwrap() error        { return e.err }
func (e *noSpaceError) Is(target error) bool { return target == ErrNoSpace }

// DigestMismatchError is the ErrDigestMismatch of PutVerified, with both digests
// (a client that signed the wrong hash is told what the content hashed to).
type DigestMismatchError struct{ Got, Want Digest }

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("store: content hashes to %s, expected %s", e.Got, e.Want)
}

// Is makes errors.Is(err, ErrDigestMismatch) true.
func (e *DigestMismatchError) Is(target error) bool { return target == ErrDigestMismatch }
