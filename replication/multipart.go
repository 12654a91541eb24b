package replication

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// multipart uploads a large object part by part. The UploadId and part
// size are journaled before the first part, and each part as it completes;
// a resumed upload sends only the parts the remote does not hold.
func (r *Replicator) multipart(ctx context.Context, j Job, p *progress, log zerolog.Logger) (RemoteCopy, error) {
	return r.multipartOnce(ctx, j, p, log, true)
}

func (r *Replicator) multipartOnce(ctx context.Context, j Job, p *progress, log zerolog.Logger, mayRestart bool) (RemoteCopy, error) {
	if j.UploadID == "" {
		ps := partSize(j.Size, r.cfg.PartSize)
		id, err := r.remote.CreateMultipartUpload(ctx, j.Name(), j.Meta)
		if err != nil {
			return RemoteCopy{}, jobError("start upload", j, err)
		}
		if err := r.journal.JobStarted(ctx, j.ID, id, ps); err != nil {
			// The remote upload is unowned now: the orphan sweep aborts it.
			return RemoteCopy{}, jobError("journal upload start", j, err)
		}
		j.UploadID, j.PartSize, j.PartsDone = id, ps, nil
		log.Info().Str("upload_id", id).Int64("part_size", ps).Int("parts", partCount(j.Size, ps)).Msg("multipart upload started")
	}
	log = log.With().Str("upload_id", j.UploadID).Logger()
	done, err := r.reconcile(ctx, j)
	if err == nil {
		err = r.sendParts(ctx, j, p, done, log)
	}
	var c RemoteCopy
	if err == nil {
		c, err = r.complete(ctx, j, done)
	}
	if errors.Is(err, ErrNoSuchUpload) {
		if c, ok := r.alreadyThere(ctx, j); ok {
			return c, nil
		}
		if !mayRestart {
			return RemoteCopy{}, err
		}
		log.Warn().Err(err).Msg("the remote no longer knows the upload: starting it again")
		if jerr := r.journal.JobReset(ctx, j.ID); jerr != nil {
			return RemoteCopy{}, jobError("journal reset", j, jerr)
		}
		j.UploadID, j.PartSize, j.PartsDone = "", 0, nil
		return r.multipartOnce(ctx, j, p, log, false)
	}
	return c, err
}

// reconcile returns the parts that are on the remote, by number: journaled
// parts the remote confirms, plus parts that reached the remote but not the
// journal (a crash between the two), which are journaled now.
func (r *Replicator) reconcile(ctx context.Context, j Job) (map[int]Part, error) {
	remote, err := r.remote.ListParts(ctx, j.Name(), j.UploadID)
	if err != nil {
		return nil, jobError("list parts", j, err)
	}
	journaled := map[int]Part{}
	for _, pt := range j.PartsDone {
		journaled[pt.Number] = pt
	}
	done := map[int]Part{}
	n := partCount(j.Size, j.PartSize)
	for _, rp := range remote {
		if rp.Number < 1 || rp.Number > n {
			continue
		}
		_, want := partRange(j.Size, j.PartSize, rp.Number)
		if rp.Size != want {
			continue
		}
		if jp, ok := journaled[rp.Number]; ok && jp.ETag == rp.ETag {
			done[rp.Number] = jp
			continue
		}
		// On the remote but not journaled: keep it if its ETag is the MD5
		// of our bytes (or not an MD5 at all, as with SSE-KMS).
		off, length := partRange(j.Size, j.PartSize, rp.Number)
		s, err := r.hashRange(ctx, j, off, length, nil)
		if err != nil {
			return nil, jobError("read", j, err)
		}
		if isMD5(rp.ETag) && rp.ETag != hex.EncodeToString(s.md5) {
			continue
		}
		pt := Part{Number: rp.Number, ETag: rp.ETag, Size: rp.Size, Checksum: base64.StdEncoding.EncodeToString(s.md5)}
		if err := r.journal.JobPartDone(ctx, j.ID, j.UploadID, pt); err != nil {
			return nil, jobError("journal part", j, err)
		}
		done[rp.Number] = pt
	}
	return done, nil
}

func isMD5(etag string) bool {
	if len(etag) != 32 {
		return false
	}
	_, err := hex.DecodeString(etag)
	return err == nil
}

// sendParts uploads the missing parts, up to Parts at a time across all
// uploads. The first failure stops new parts from starting; parts already
// in flight finish and are journaled.
func (r *Replicator) sendParts(ctx context.Context, j Job, p *progress, done map[int]Part, log zerolog.Logger) error {
	n := partCount(j.Size, j.PartSize)
	var doneBytes int64
	for _, pt := range done {
		doneBytes += pt.Size
	}
	p.setParts(n, len(done), doneBytes)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }
	for num := 1; num <= n && !failed(); num++ {
		if _, ok := done[num]; ok {
			continue
		}
		select {
		case r.partSlots <- struct{}{}:
		case <-ctx.Done():
			mu.Lock()
			firstErr = ctx.Err()
			mu.Unlock()
			continue
		}
		if failed() {
			<-r.partSlots
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-r.partSlots }()
			pt, err := r.uploadPart(ctx, j, num, p, log)
			if err == nil {
				err = r.journal.JobPartDone(ctx, j.ID, j.UploadID, pt)
				if err != nil {
					err = jobError("journal part", j, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			done[num] = pt
			p.partDone(pt.Size)
		}()
	}
	wg.Wait()
	return firstErr
}

// uploadPart sends one part, retrying transient errors in place a few
// times before giving up on this attempt of the job.
func (r *Replicator) uploadPart(ctx context.Context, j Job, num int, p *progress, log zerolog.Logger) (Part, error) {
	off, length := partRange(j.Size, j.PartSize, num)
	s, err := r.hashRange(ctx, j, off, length, nil)
	if err != nil {
		return Part{}, jobError("read", j, err)
	}
	for attempt := 1; ; attempt++ {
		var etag string
		err = r.send(ctx, j, off, length, p, func(ctx context.Context, body io.Reader) error {
			var err error
			etag, err = r.remote.UploadPart(ctx, j.Name(), j.UploadID, num, body, length, s.md5)
			return err
		})
		if err == nil {
			return Part{Number: num, ETag: etag, Size: length, Checksum: base64.StdEncoding.EncodeToString(s.md5)}, nil
		}
		if ctx.Err() != nil || attempt > r.cfg.PartRetries || errors.Is(err, ErrRemoteRefused) ||
			errors.Is(err, ErrNoSuchUpload) || isPoison(err) {
			return Part{}, jobError(fmt.Sprintf("upload part %d", num), j, err)
		}
		wait := backoff(attempt, r.cfg.BackoffMin, r.cfg.BackoffMax)
		log.Debug().Err(err).Int("part", num).Dur("retry_in", wait).Msg("part failed, retrying")
		r.events.partRetry()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Part{}, jobError(fmt.Sprintf("upload part %d", num), j, ctx.Err())
		case <-t.C:
		}
	}
}

// complete assembles the upload and verifies the result with a HEAD.
func (r *Replicator) complete(ctx context.Context, j Job, done map[int]Part) (RemoteCopy, error) {
	parts := make([]Part, 0, len(done))
	for _, pt := range done {
		parts = append(parts, pt)
	}
	sort.Slice(parts, func(a, b int) bool { return parts[a].Number < parts[b].Number })
	if err := r.remote.CompleteMultipartUpload(ctx, j.Name(), j.UploadID, parts); err != nil {
		return RemoteCopy{}, jobError("complete upload", j, err)
	}
	return r.verify(ctx, j)
}

// verify checks the remote object's size and SHA-256 metadata, and returns
// the remote's ETag and size.
func (r *Replicator) verify(ctx context.Context, j Job) (RemoteCopy, error) {
	h, err := r.remote.HeadObject(ctx, j.Name())
	if err != nil {
		return RemoteCopy{}, jobError("verify", j, err)
	}
	if h.Size != j.Size || (j.Meta.SHA256 != "" && !strings.EqualFold(h.Meta.SHA256, j.Meta.SHA256)) {
		return RemoteCopy{}, jobError("verify", j, fmt.Errorf("remote has %d bytes with sha256 %q, want %d bytes with %q",
			h.Size, h.Meta.SHA256, j.Size, j.Meta.SHA256))
	}
	return RemoteCopy{ETag: h.ETag, Size: h.Size, VersionID: h.VersionID}, nil
}

// alreadyThere reports whether the object is on the remote already: a crash
// between Complete and the journal's JobDone.
func (r *Replicator) alreadyThere(ctx context.Context, j Job) (RemoteCopy, bool) {
	if j.Meta.SHA256 == "" {
		return RemoteCopy{}, false
	}
	c, err := r.verify(ctx, j)
	return c, err == nil
}
