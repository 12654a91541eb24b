package queue

import (
	"fmt"
	"slices"
	"time"
)

// jobUpdate applies the replication progress commands. Each is idempotent:
// applying it twice leaves the job as applying it once did.
func (a *applier) jobUpdate(c *command) (error, error) {
	seq := a.ids.Get([]byte(c.ID))
	if seq == nil {
		return ErrNoSuchJob, nil
	}
	v := a.jobs.Get(seq)
	if v == nil {
		return nil, fmt.Errorf("job %s: %w: jobids names sequence %d, which jobs lacks", c.ID, errCorrupt, jobSeq(seq))
	}
	var j Job
	objRaw, err := decodeJobRaw(v, &j)
	if err != nil {
		return nil, err
	}
	switch c.Op {
	case opJobStarted:
		if j.Op != JobPut {
			return fmt.Errorf("%w: %s: job %s is a %s", ErrInvalidCommand, c.Op, c.ID, j.Op), nil
		}
		switch j.UploadID {
		case "":
			j.UploadID, j.PartSize, j.PartsDone = c.UploadID, c.PartSize, nil
		case c.UploadID:
			if j.State == JobUploading {
				return nil, nil // a retry
			}
		default:
			return ErrJobStarted, nil
		}
		j.State = JobUploading
	case opJobPartDone:
		if j.UploadID != c.UploadID {
			return nil, nil // progress of an upload the job has since forgotten
		}
		i, found := slices.BinarySearchFunc(j.PartsDone, c.JobPart.Number, func(p Part, n int) int { return p.Number - n })
		if found {
			if j.PartsDone[i] == c.JobPart {
				return nil, nil
			}
			j.PartsDone[i] = c.JobPart
		} else {
			j.PartsDone = slices.Insert(j.PartsDone, i, c.JobPart)
		}
	case opJobFailed:
		if j.LastFailure.Equal(c.Time) {
			return nil, nil // a retry of this very failure
		}
		j.Attempts++
		j.State, j.NotBefore, j.LastError, j.LastFailure = JobFailing, c.At, c.Text, c.Time
	case opJobQuarantined:
		if j.Quarantined && j.LastError == c.Text {
			return nil, nil
		}
		j.Quarantined, j.LastError = true, c.Text
	case opJobRetry:
		if !j.Quarantined && j.Attempts == 0 && j.NotBefore.IsZero() && j.LastError == "" && j.State != JobFailing {
			return nil, nil
		}
		j.Quarantined, j.Attempts, j.LastError, j.NotBefore = false, 0, "", time.Time{}
		if j.State == JobFailing {
			j.State = JobPending
		}
	case opJobReset:
		if j.UploadID == "" && len(j.PartsDone) == 0 && j.State != JobUploading {
			return nil, nil
		}
		j.UploadID, j.PartSize, j.PartsDone = "", 0, nil
		if j.State == JobUploading {
			j.State = JobPending
		}
	}
	seq = append([]byte(nil), seq...)
	return nil, a.jobs.Put(seq, encodeJob(&j, objRaw))
}
