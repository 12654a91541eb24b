package replication_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/ipas/ipas/replication"
)

// fileJournal is a stand-in for queue.Node until the queue's replication
// commands land: jobs in memory, every write persisted to a JSON file with
// fsync + rename, so that a killed process finds its progress again.
type fileJournal struct {
	mu     sync.Mutex
	path   string
	State  journalState
	writes int // journal writes, for assertions
}

type journalState struct {
	Seq  uint64
	Jobs map[string]*replication.Job
}

func openFileJournal(path string) (*fileJournal, error) {
	j := &fileJournal{path: path, State: journalState{Jobs: map[string]*replication.Job{}}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, err
	}
	return j, json.Unmarshal(b, &j.State)
}

func (f *fileJournal) persist() error {
	f.writes++
	if f.path == "" {
		return nil // in memory only
	}
	b, err := json.Marshal(f.State)
	if err != nil {
		return err
	}
	tmp := f.path + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := fh.Write(b); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	fh.Close()
	return os.Rename(tmp, f.path)
}

func (f *fileJournal) add(j replication.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.State.Seq++
	j.Seq = f.State.Seq
	f.State.Jobs[j.ID] = &j
	if err := f.persist(); err != nil {
		panic(err)
	}
}

func (f *fileJournal) Jobs(afterSeq uint64, limit int) ([]replication.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []replication.Job
	for _, j := range f.State.Jobs {
		if j.Seq > afterSeq {
			c := *j
			c.PartsDone = append([]replication.Part(nil), j.PartsDone...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fileJournal) Job(id string) (replication.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.State.Jobs[id]
	if !ok {
		return replication.Job{}, fmt.Errorf("job %s: %w", id, replication.ErrNoSuchJob)
	}
	c := *j
	c.PartsDone = append([]replication.Part(nil), j.PartsDone...)
	return c, nil
}

func (f *fileJournal) update(id string, fn func(j *replication.Job)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.State.Jobs[id]
	if !ok {
		return nil
	}
	fn(j)
	return f.persist()
}

func (f *fileJournal) JobStarted(_ context.Context, id, uploadID string, partSize int64) error {
	return f.update(id, func(j *replication.Job) {
		if j.UploadID == "" {
			j.UploadID, j.PartSize, j.PartsDone = uploadID, partSize, nil
		}
	})
}

func (f *fileJournal) JobPartDone(_ context.Context, id, uploadID string, p replication.Part) error {
	return f.update(id, func(j *replication.Job) {
		if j.UploadID != uploadID {
			return
		}
		for i, q := range j.PartsDone {
			if q.Number == p.Number {
				j.PartsDone[i] = p
				return
			}
		}
		j.PartsDone = append(j.PartsDone, p)
	})
}

func (f *fileJournal) JobFailed(_ context.Context, id, lastError string, retryAt time.Time) error {
	return f.update(id, func(j *replication.Job) {
		j.Attempts++
		j.LastError, j.NotBefore = lastError, retryAt
	})
}

func (f *fileJournal) JobQuarantined(_ context.Context, id, reason string) error {
	return f.update(id, func(j *replication.Job) {
		j.Quarantined, j.LastError = true, reason
	})
}

func (f *fileJournal) JobReset(_ context.Context, id string) error {
	return f.update(id, func(j *replication.Job) {
		j.UploadID, j.PartSize, j.PartsDone = "", 0, nil
	})
}

func (f *fileJournal) JobDone(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.State.Jobs[id]; !ok {
		return nil
	}
	delete(f.State.Jobs, id)
	return f.persist()
}

func (f *fileJournal) JobReplicated(ctx context.Context, id string, _ replication.RemoteCopy) error {
	return f.JobDone(ctx, id)
}

func (f *fileJournal) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.State.Jobs)
}

var _ replication.Journal = (*fileJournal)(nil)
