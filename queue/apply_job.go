package queue

import (
	"fmt"
	"time"
)

// jobUpdate applies the replication progress commands. Each is idempotent:
// applying it twice leaves the job as applying it once did.
func (a *applier) jobUpdate(c *command) (error, error) {
	seq := a.ids.Get([]byte(c.ID))
	if seq == nil {
		return ErrNoSuchJob, nil
	}
	seq = append([]byte(nil), seq...) // seq aliases the page; writes may move it
	v := a.jobs.Get(seq)
	if v == nil {
		return nil, fmt.Errorf("job %s: %w: jobids names sequence %d, which jobs lacks", c.ID, errCorrupt, jobSeq(seq))
	}
	var j Job
	objRaw, err := decodeJobRaw(v, &j)
	if err != nil {
		return nil, err
	}
	// A record written before jobparts carries its parts: they move out.
	rewrite := len(j.PartsDone) > 0
	for i := range j.PartsDone {
		if _, err := putJobPart(a.tx, seq, &j.PartsDone[i]); err != nil {
			return nil, err
		}
	}
	j.PartsDone = nil
	save := func() (error, error) { return nil, a.jobs.Put(seq, encodeJob(&j, objRaw)) }
	switch c.Op {
	case opJobStarted:
		if j.Op != JobPut {
			return fmt.Errorf("%w: %s: job %s is a %s", ErrInvalidCommand, c.Op, c.ID, j.Op), nil
		}
		switch j.UploadID {
		case "":
			j.UploadID, j.PartSize = c.UploadID, c.PartSize
			if err := deleteJobParts(a.tx, seq); err != nil {
				return nil, err
			}
		case c.UploadID:
			if j.State == JobUploading && !rewrite {
				return nil, nil // a retry
			}
		default:
			if rewrite {
				return ErrJobStarted, a.jobs.Put(seq, encodeJob(&j, objRaw))
			}
			return ErrJobStarted, nil
		}
		j.State = JobUploading
	case opJobPartDone:
		// One record per part: the job's own record is not rewritten.
		if j.UploadID == c.UploadID {
			if _, err := putJobPart(a.tx, seq, &c.JobPart); err != nil {
				return nil, err
			}
		} // else: progress of an upload the job has since forgotten
		if !rewrite {
			return nil, nil
		}
	case opJobFailed:
		if j.LastFailure.Equal(c.Time) && !rewrite {
			return nil, nil // a retry of this very failure
		}
		if !j.LastFailure.Equal(c.Time) {
			j.Attempts++
			j.State, j.NotBefore, j.LastError, j.LastFailure = JobFailing, c.At, c.Text, c.Time
		}
	case opJobQuarantined:
		if j.Quarantined && j.LastError == c.Text && !rewrite {
			return nil, nil
		}
		j.Quarantined, j.LastError = true, c.Text
	case opJobRetry:
		if !j.Quarantined && j.Attempts == 0 && j.NotBefore.IsZero() && j.LastError == "" && j.State != JobFailing && !rewrite {
			return nil, nil
		}
		j.Quarantined, j.Attempts, j.LastError, j.NotBefore = false, 0, "", time.Time{}
		if j.State == JobFailing {
			j.State = JobPending
		}
	case opJobReset:
		if j.UploadID == "" && !hasJobParts(a.tx, seq) && j.State != JobUploading && !rewrite {
			return nil, nil
		}
		j.UploadID, j.PartSize = "", 0
		if err := deleteJobParts(a.tx, seq); err != nil {
			return nil, err
		}
		if j.State == JobUploading {
			j.State = JobPending
		}
	}
	return save()
}
