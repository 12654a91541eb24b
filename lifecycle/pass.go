package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
)

// DefaultBatch is how many deletions or aborts go into one journal call (one
// raft entry, or a few when their keys are long), and how many versions or
// uploads one listing page reads.
const DefaultBatch = 256

// Journal is what a pass reads and changes (*queue.Node).
type Journal interface {
	Buckets() ([]queue.Bucket, error)
	ListUploads(bucket, prefix, keyMarker, uploadIDMarker string, limit int) ([]queue.Upload, bool, error)
	AbortUploads(ctx context.Context, uploads []queue.Upload) []error
	ListVersions(bucket, prefix, keyMarker, versionIDMarker string, limit int) ([]queue.ObjectVersion, bool, error)
	DeleteObjects(ctx context.Context, bucket string, dels []queue.ObjectDeletion) []error
}

var _ Journal = (*queue.Node)(nil)

// Result counts what a pass did.
type Result struct {
	// Buckets is how many buckets had a configuration.
	Buckets int `json:"buckets"`
	// UploadsAborted, VersionsExpired and MarkersRemoved count the
	// multipart uploads aborted, the noncurrent versions (delete markers
	// among them) expired, and the expired delete markers removed.
	UploadsAborted  int64 `json:"uploads_aborted"`
	VersionsExpired int64 `json:"versions_expired"`
	MarkersRemoved  int64 `json:"markers_removed"`
}

// Pass applies every bucket's lifecycle configuration once. Create it with
// NewPass and change the exported fields before Run.
type Pass struct {
	// Now is the pass's clock: when it runs, for the rules' days. Tests move
	// it forward instead of waiting days.
	Now func() time.Time
	// Batch is DefaultBatch.
	Batch int

	journal Journal
	log     zerolog.Logger
}

// NewPass returns a pass over journal.
func NewPass(journal Journal, log zerolog.Logger) *Pass {
	return &Pass{Now: time.Now, Batch: DefaultBatch, journal: journal, log: log}
}

// Run applies every bucket's configuration, reporting its counts to
// progress after each bucket. A bucket whose stored configuration does not
// parse is skipped with an error in the log; the first journal error ends
// the pass.
func (p *Pass) Run(ctx context.Context, progress func(Result)) (Result, error) {
	var res Result
	buckets, err := p.journal.Buckets()
	if err != nil {
		return res, fmt.Errorf("lifecycle: list buckets: %w", err)
	}
	now := p.Now()
	for _, b := range buckets {
		stored, ok := b.Settings[queue.SettingLifecycle]
		if !ok {
			continue
		}
		log := p.log.With().Str("bucket", b.Name).Logger()
		c, err := ParseStored(stored)
		if err != nil {
			log.Error().Err(err).Msg("the bucket's lifecycle configuration does not parse: skipped; put it again")
			continue
		}
		res.Buckets++
		br, err := p.apply(ctx, b.Name, c, now)
		res.UploadsAborted += br.UploadsAborted
		res.VersionsExpired += br.VersionsExpired
		res.MarkersRemoved += br.MarkersRemoved
		if progress != nil {
			progress(res)
		}
		log.Info().Int64("uploads_aborted", br.UploadsAborted).Int64("versions_expired", br.VersionsExpired).
			Int64("markers_removed", br.MarkersRemoved).Msg("lifecycle applied")
		if err != nil {
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// apply applies c to bucket: what it did, also when it fails.
func (p *Pass) apply(ctx context.Context, bucket string, c *Configuration, now time.Time) (Result, error) {
	var res Result
	for _, prefix := range c.uploadPrefixes() {
		if err := p.abortUploads(ctx, bucket, prefix, c, now, &res); err != nil {
			return res, err
		}
	}
	for _, prefix := range c.versionPrefixes() {
		if err := p.expireVersions(ctx, bucket, prefix, c, now, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// abortUploads aborts the bucket's uploads under prefix that a rule's
// DaysAfterInitiation has run out on.
func (p *Pass) abortUploads(ctx context.Context, bucket, prefix string, c *Configuration, now time.Time, res *Result) error {
	var due []queue.Upload
	flush := func() error {
		for i, err := range p.journal.AbortUploads(ctx, due) {
			switch {
			case err == nil:
				res.UploadsAborted++
			case !errors.Is(err, queue.ErrNoSuchUpload): // completed meanwhile
				return fmt.Errorf("lifecycle: bucket %s: abort upload of %s: %w", bucket, due[i].Key, err)
			}
		}
		due = due[:0]
		return nil
	}
	keyMarker, idMarker := "", ""
	for {
		page, more, err := p.journal.ListUploads(bucket, prefix, keyMarker, idMarker, p.Batch)
		if err != nil {
			return fmt.Errorf("lifecycle: bucket %s: list uploads: %w", bucket, err)
		}
		for _, u := range page {
			if days, ok := c.AbortAfter(u.Key); ok && !now.Before(Due(u.Created, days)) {
				due = append(due, u)
			}
		}
		if len(due) >= p.Batch || !more || len(page) == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		if !more || len(page) == 0 {
			return nil
		}
		last := page[len(page)-1]
		keyMarker, idMarker = last.Key, last.ID
	}
}

// expireVersions removes the versions under prefix that the rules expire,
// reading every key's versions in order, newest first.
func (p *Pass) expireVersions(ctx context.Context, bucket, prefix string, c *Configuration, now time.Time, res *Result) error {
	var (
		key     string    // the key whose versions are being gathered
		history []Version // its versions so far, newest first
		dels    []queue.ObjectDeletion
		marker  []bool // dels[i] is a current delete marker
	)
	flush := func() error {
		for i, err := range p.journal.DeleteObjects(ctx, bucket, dels) {
			switch {
			case err == nil && marker[i]:
				res.MarkersRemoved++
			case err == nil:
				res.VersionsExpired++
			case !errors.Is(err, queue.ErrNoSuchVersion): // removed meanwhile
				return fmt.Errorf("lifecycle: bucket %s: expire %s version %s: %w", bucket, dels[i].Key, dels[i].VersionID, err)
			}
		}
		dels, marker = dels[:0], marker[:0]
		return nil
	}
	decide := func() {
		for _, v := range c.Expire(key, history, now) {
			dels = append(dels, queue.ObjectDeletion{Key: key, VersionID: v.ID})
			marker = append(marker, v.ID == history[0].ID)
		}
		history = history[:0]
	}
	keyMarker, idMarker := "", ""
	for {
		page, more, err := p.journal.ListVersions(bucket, prefix, keyMarker, idMarker, p.Batch)
		if err != nil {
			return fmt.Errorf("lifecycle: bucket %s: list versions: %w", bucket, err)
		}
		for _, o := range page {
			if o.Key != key && len(history) > 0 {
				decide()
			}
			key = o.Key
			history = append(history, Version{ID: o.S3VersionID(), Time: o.ModTime, DeleteMarker: o.DeleteMarker})
		}
		if !more || len(page) == 0 {
			if len(history) > 0 {
				decide()
			}
			return flush()
		}
		// A key's versions are decided once all are read, so that the
		// deletions are always of keys before the page's last.
		if len(dels) >= p.Batch {
			if err := flush(); err != nil {
				return err
			}
		}
		last := page[len(page)-1]
		keyMarker, idMarker = last.Key, last.S3VersionID()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
