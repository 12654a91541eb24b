package queue

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. Callers match them with errors.Is; raft's own errors never
// cross the package boundary.
var (
	// ErrNotLeader means this node cannot commit commands because it is not
	// (or no longer) the raft leader. The command may or may not have been
	// committed when leadership was lost mid-flight; commands are idempotent,
	// so retrying with the same IDs is safe.
	ErrNotLeader = errors.New("queue: not the leader")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("queue: node closed")
	// ErrNoSuchBucket means the named bucket does not exist.
	ErrNoSuchBucket = errors.New("queue: no such bucket")
	// ErrNoSuchKey means the bucket has no object under that key.
	ErrNoSuchKey = errors.New("queue: no such key")
	// ErrNoSuchVersion means the key has no version with that version ID.
	ErrNoSuchVersion = errors.New("queue: no such version")
	// ErrNoSuchJob means the job table has no job with that ID.
	ErrNoSuchJob = errors.New("queue: no such job")
	// ErrNoSuchUpload means there is no multipart upload with that ID (it
	// was never created, or was completed or aborted).
	ErrNoSuchUpload = errors.New("queue: no such upload")
	// ErrJobStarted is the result of JobStarted on a job that already
	// journals a different remote upload: resume that one, or JobReset first.
	ErrJobStarted = errors.New("queue: job already has a remote upload")
	// ErrBucketExists is the result of creating a bucket that already exists.
	ErrBucketExists = errors.New("queue: bucket already exists")
	// ErrBucketNotEmpty is the result of deleting a bucket that still holds objects.
	ErrBucketNotEmpty = errors.New("queue: bucket not empty")
	// ErrNewerVersion is the result of a restored put (PutRestoredObjects)
	// whose key has a version with a later ModTime: nothing changed.
	ErrNewerVersion = errors.New("queue: the key has a newer version")
	// ErrRemoteOnly is the result of requeueing (RequeueObjects) a version
	// whose bytes are on the remote only (Object.RemoteOnly): there is
	// nothing local to upload, so no job is queued.
	ErrRemoteOnly = errors.New("queue: the version's bytes are on the remote only")
	// ErrNotOffsite is the result of evicting (EvictObjects) a version that
	// is not verified on the remote: its upload was never confirmed, or a
	// put job of it waits. Nothing changed.
	ErrNotOffsite = errors.New("queue: the version is not verified offsite")
	// ErrPreconditionFailed is the result of a conditional write (PutObjectIf,
	// CompleteUploadIf) whose condition did not hold when it was applied:
	// nothing changed.
	ErrPreconditionFailed = errors.New("queue: precondition failed")
	// ErrInvalidCommand means a command failed validation before it was proposed.
	ErrInvalidCommand = errors.New("queue: invalid command")
	// ErrBadState means a file in the raft directory cannot be used as it is;
	// the wrapped message names the file and the fix. Nothing was modified.
	ErrBadState = errors.New("queue: unusable raft directory")
	// ErrFSMFailed means the state machine could not commit a transaction
	// (disk full, I/O error). The raft log still holds every command, so a
	// restart replays exactly what is missing; until then writes fail.
	ErrFSMFailed = errors.New("queue: state machine failed")
	// ErrNoSpace means the disk of the raft directory is full: the node
	// released the space it keeps for the journal, and refuses commands
	// that add data (objects, uploads, parts, buckets) until there is room
	// again; reads, deletes and aborts work, and free space. It wraps
	// syscall.ENOSPC, so that callers that handle a full disk handle it.
	ErrNoSpace = fmt.Errorf("queue: %w: delete objects or abort incomplete multipart uploads to free space, or move the data directory to a larger disk", syscall.ENOSPC)
)
