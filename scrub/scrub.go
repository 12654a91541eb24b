package scrub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/store"
)

// Defaults of the Scrubber's tunables.
const (
	// DefaultMaxCorrupt bounds the corrupt blobs one pass remembers for
	// repair; more are counted, and found again by the next pass.
	DefaultMaxCorrupt = 10000
	// DefaultMaxProblems bounds the unrepairable blobs a Result names.
	DefaultMaxProblems = 100
	// progressEvery is how often a pass reports its counts.
	progressEvery = time.Second
	// minBurst is the least burst of the rate limiter: one read of a blob
	// (store.DefaultBufferSize) must fit in it.
	minBurst = 1 << 20
)

// Store is the local blob store (store.Store).
type Store interface {
	Blobs(ctx context.Context, after *store.Digest, fn func(d store.Digest, size int64) error) error
	VerifyPaced(ctx context.Context, d store.Digest, size int64, pace func(ctx context.Context, n int) error) error
	Repair(ctx context.Context, d store.Digest, r io.Reader) (int64, error)
}

// Index is the object index and its replication jobs (queue.Node), read to
// find the objects that use a corrupt blob.
type Index interface {
	Buckets() ([]queue.Bucket, error)
	// ListVersions lists every version of bucket, noncurrent ones and
	// delete markers included (queue.Node.ListVersions).
	ListVersions(bucket, prefix, keyMarker, versionMarker string, limit int) ([]queue.ObjectVersion, bool, error)
	Jobs(afterSeq uint64, limit int) ([]queue.Job, error)
	// Job returns the job with this ID; an error wrapping
	// queue.ErrNoSuchJob when there is none.
	Job(id string) (queue.Job, error)
}

// Remote reads object bytes back from the remote (remote.Client).
type Remote interface {
	// GetObjectAt reads the copy of one version at loc
	// (replication.Locations).
	GetObjectAt(ctx context.Context, loc replication.Location, off, length int64) (io.ReadCloser, replication.RemoteObject, error)
}

// Result counts what a pass found and did.
type Result struct {
	Blobs int64 `json:"blobs"` // blobs re-hashed
	Bytes int64 `json:"bytes"`
	// Corrupt blobs did not hash to their address; Repaired ones were
	// replaced with good bytes from the remote.
	Corrupt  int64 `json:"corrupt"`
	Repaired int64 `json:"repaired"`
	// Unreferenced corrupt blobs are used by no object, upload or job: the
	// collector removes them.
	Unreferenced int64 `json:"unreferenced"`
	// NotOffsite counts corrupt blobs whose object's upload is still
	// pending: no other copy exists.
	NotOffsite int64 `json:"not_offsite"`
	// Unrepairable names corrupt blobs that stay corrupt (at most
	// DefaultMaxProblems; UnrepairableCount counts them all).
	Unrepairable      []Problem `json:"unrepairable,omitempty"`
	UnrepairableCount int64     `json:"unrepairable_count"`
	// ResumeAfter is the digest of the last blob checked when the pass
	// stopped early; the next pass continues after it.
	ResumeAfter string `json:"resume_after,omitempty"`
}

// Problem is a corrupt blob that scrub could not repair.
type Problem struct {
	Blob    string `json:"blob"`
	Object  string `json:"object,omitempty"` // "bucket/key" of an object that uses it
	Offsite bool   `json:"offsite"`
	Reason  string `json:"reason"` // what happened and what to do
}

func (r Result) clone() Result {
	r.Unrepairable = append([]Problem(nil), r.Unrepairable...)
	return r
}

// Scrubber runs passes. Create it with New; adjust the exported fields
// before the first Run.
type Scrubber struct {
	// Rate is the most bytes per second a pass reads; 0 means unlimited.
	Rate int64
	// MaxCorrupt bounds the corrupt blobs one pass remembers for repair.
	MaxCorrupt int

	store  Store
	index  Index
	remote Remote
	log    zerolog.Logger
}

// New returns a Scrubber of st, repairing from remote the objects of index.
func New(st Store, index Index, remote Remote, log zerolog.Logger) *Scrubber {
	return &Scrubber{MaxCorrupt: DefaultMaxCorrupt, store: st, index: index, remote: remote,
		log: log.With().Str("component", "scrub").Logger()}
}

// Run re-hashes every blob after resume (nil: from the first), then
// repairs the corrupt ones it found. progress, when not nil, gets the
// counts now and then. When ctx ends, the Result says where to resume.
func (s *Scrubber) Run(ctx context.Context, resume *store.Digest, progress func(Result)) (Result, error) {
	var res Result
	var pace func(context.Context, int) error
	if s.Rate > 0 {
		lim := rate.NewLimiter(rate.Limit(s.Rate), max(int(min(s.Rate, 1<<30)), minBurst))
		pace = lim.WaitN
	}
	corrupt := map[store.Digest]string{} // digest -> the damaged file
	lastReport := time.Now()
	var last *store.Digest
	err := s.store.Blobs(ctx, resume, func(d store.Digest, size int64) error {
		err := s.store.VerifyPaced(ctx, d, size, pace)
		var ce *store.CorruptError
		switch {
		case err == nil:
		case errors.As(err, &ce):
			res.Corrupt++
			s.log.Warn().Err(err).Msg("corrupt blob found: repairing it from the remote after the pass")
			if len(corrupt) < s.MaxCorrupt {
				corrupt[d] = ce.Path
			}
		case errors.Is(err, store.ErrNotFound):
			return nil // collected meanwhile
		default:
			return err
		}
		res.Blobs++
		res.Bytes += size
		last = &d
		if progress != nil && time.Since(lastReport) >= progressEvery {
			lastReport = time.Now()
			progress(res.clone())
		}
		return nil
	})
	if err != nil {
		if last != nil {
			res.ResumeAfter = last.String()
		} else if resume != nil {
			res.ResumeAfter = resume.String()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("scrub: interrupted after %d blobs; the next pass continues from there: %w", res.Blobs, err)
		} else {
			err = fmt.Errorf("scrub: %w", err)
		}
	}
	// Repair what was found, also after an interruption (with a fresh
	// context then, bounded: the daemon is stopping).
	if len(corrupt) > 0 {
		rctx := ctx
		if ctx.Err() != nil {
			var cancel context.CancelFunc
			rctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
		}
		if rerr := s.repairAll(rctx, corrupt, &res); rerr != nil && err == nil {
			err = rerr
		}
	}
	return res, err
}
