package queue

import (
	"context"
	"time"
	"unicode/utf8"
)

// Replication progress. The replicator journals what it did to the remote
// so that a restart resumes instead of starting over; every call is
// idempotent, so retrying one after ErrNotLeader or a timeout is safe.

// JobStarted journals the remote multipart upload of a put job, once: its
// UploadId and part size. The job becomes JobUploading. Calling it again
// with the same uploadID only sets the state back to JobUploading (a
// resume); with a different one while the job still has its upload, the
// result is ErrJobStarted (resume the journaled upload, or JobReset first).
// ErrNoSuchJob.
func (n *Node) JobStarted(ctx context.Context, jobID, uploadID string, partSize int64) error {
	return n.propose(ctx, &command{Op: opJobStarted, Time: time.Now(), ID: jobID, UploadID: uploadID, PartSize: partSize})
}

// JobPartDone journals a finished part of the job's remote upload,
// replacing a part with the same number. It is ignored (nil) when uploadID
// is no longer the job's upload: that upload was reset meanwhile.
// ErrNoSuchJob.
func (n *Node) JobPartDone(ctx context.Context, jobID, uploadID string, p Part) error {
	return n.propose(ctx, &command{Op: opJobPartDone, Time: time.Now(), ID: jobID, UploadID: uploadID, JobPart: p})
}

// JobFailed counts a failed attempt (Attempts+1, state JobFailing) and
// records lastError (cut to 2 KiB) and when to retry. The failure is
// identified by the time it is issued, so a retried call counts once.
// ErrNoSuchJob.
func (n *Node) JobFailed(ctx context.Context, jobID string, lastError string, retryAt time.Time) error {
	return n.propose(ctx, &command{Op: opJobFailed, Time: time.Now(), ID: jobID, Text: cutText(lastError), At: retryAt})
}

// JobQuarantined marks a job as poison (the remote refuses it for good):
// Quarantined, with reason as LastError. The job keeps its blob references
// and is never tried again automatically. ErrNoSuchJob.
func (n *Node) JobQuarantined(ctx context.Context, jobID string, reason string) error {
	return n.propose(ctx, &command{Op: opJobQuarantined, Time: time.Now(), ID: jobID, Text: cutText(reason)})
}

// JobReset forgets the job's remote upload (UploadID, PartSize, PartsDone),
// for when the remote answered NoSuchUpload; an uploading job becomes
// pending. Attempts and failures are kept. ErrNoSuchJob.
func (n *Node) JobReset(ctx context.Context, jobID string) error {
	return n.propose(ctx, &command{Op: opJobReset, Time: time.Now(), ID: jobID})
}

// JobRetry is an operator's "try again": it releases a quarantined job and
// lets a failing one start at once, its attempts and last error forgotten.
// A job uploading keeps its remote upload, so the retry resumes it. Retrying
// a job that has not failed changes nothing. ErrNoSuchJob.
func (n *Node) JobRetry(ctx context.Context, jobID string) error {
	return n.propose(ctx, &command{Op: opJobRetry, Time: time.Now(), ID: jobID})
}

// cutText bounds a journaled message to maxTextLen bytes of valid UTF-8.
func cutText(s string) string {
	if len(s) <= maxTextLen {
		return s
	}
	s = s[:maxTextLen]
	for len(s) > 0 && !utf8.ValidString(s[max(0, len(s)-utf8.UTFMax):]) {
		s = s[:len(s)-1]
	}
	return s
}
