package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/store"
)

// objectError is why one object failed, and what the user can do.
type objectError struct {
	reason, fix string
}

func (e *objectError) Error() string { return e.reason }

// Fixes shown with failures.
const (
	fixRetry   = "check the network and run restore again: it continues where it stopped"
	fixCorrupt = "the remote copy is damaged or was changed outside IPAS: restore this object from another copy; nothing local was changed"
	fixChanged = "the object changed on the remote during the restore: run restore again"
)

// restoreOne downloads, verifies, stores and journals one object; a small
// one is handed to c once staged (small.go). It returns an error only when
// the whole restore must stop; an object's own failure is reported to
// Progress.
func (r *Restorer) restoreOne(ctx context.Context, o remoteindex.Object, c *committer) error {
	var fetched atomic.Int64
	var q queue.Object
	var err error
	remoteOnly := r.opts.MetadataOnly && o.Size > 0
	switch {
	case o.DeleteMarker:
		q = o.ToQueue("", nil) // no bytes to fetch
	case remoteOnly:
		q, err = r.withoutBytes(&o)
	default:
		var staged bool
		q, staged, err = r.fetch(ctx, &o, &fetched)
		if err == nil && staged {
			c.add(stagedObject{o: o, q: q, fetched: fetched.Load()})
			return nil
		}
	}
	if err == nil {
		err = r.journal(ctx, &o, q)
	}
	out := Outcome{Name: o.Name(), Version: outcomeVersion(&o), Size: o.Size, Fetched: fetched.Load(), Lacking: o.Dropped, RemoteOnly: remoteOnly}
	var oe *objectError
	switch {
	case err == nil:
		removePartial(r.opts.StateDir, partialName(&o))
		r.restored(out)
	case errors.Is(err, errNewerLocal):
		out.Reason = "a newer local version exists"
		r.mu.Lock()
		r.res.Fetched += out.Fetched
		r.mu.Unlock()
		r.skip(out.Name, out.Size, out.Reason, "")
	case fatal(err):
		return err
	case errors.As(err, &oe):
		out.Reason, out.Fix = oe.reason, oe.fix
		r.fail(out)
	default:
		out.Reason, out.Fix = err.Error(), fixRetry
		r.fail(out)
	}
	return nil
}

var errNewerLocal = errors.New("restore: a newer local version exists")

// journal records the object, whose blobs are pinned in q, as replicated.
func (r *Restorer) journal(ctx context.Context, o *remoteindex.Object, q queue.Object) error {
	defer r.unpin(q)
	if o.Version() {
		if err := r.index.PutRestoredVersions(ctx, []queue.Object{entry(o, q)})[0]; err != nil {
			return fmt.Errorf("restore: journal %s version %s: %w", o.Name(), o.S3VersionID(), err)
		}
		return nil
	}
	applied, err := r.index.PutRestoredObject(ctx, entry(o, q))
	if err != nil {
		return fmt.Errorf("restore: journal %s: %w", o.Name(), err)
	}
	if !applied {
		return errNewerLocal
	}
	return nil
}

// entry completes q, the index entry of o, for the journal: replicated, with
// a time and version ID even when the remote metadata had none.
func entry(o *remoteindex.Object, q queue.Object) queue.Object {
	if q.ModTime.IsZero() {
		q.ModTime = o.Remote.At // metadata without ipas-mtime: the remote's time
	}
	if q.VersionID == "" {
		q.VersionID = queue.NewVersionID(q.ModTime)
	}
	q.Replica = queue.Replica{ETag: o.Remote.ETag, Size: o.Remote.Size, VersionID: o.Remote.VersionID}
	return q
}

func (r *Restorer) unpin(q queue.Object) {
	if q.Blob != "" {
		if d, err := store.ParseDigest(q.Blob); err == nil {
			r.blobs.Unpin(d)
		}
	}
	for _, p := range q.Parts {
		if d, err := store.ParseDigest(p.Blob); err == nil {
			r.blobs.Unpin(d)
		}
	}
}

// checkMeta checks what o's metadata says against itself and the remote's
// listing, and returns its SHA-256: the zero Digest for a composite hash
// (package objecthash), which is checked part by part (verifyPartial).
func checkMeta(o *remoteindex.Object) (store.Digest, error) {
	var want store.Digest
	h, err := objecthash.Parse(o.SHA256)
	if err != nil {
		return want, &objectError{fmt.Sprintf("its metadata has a bad SHA-256 %q", o.SHA256), fixCorrupt}
	}
	if h.Composite() {
		if len(o.PartSizes) != h.Parts {
			return want, &objectError{fmt.Sprintf("its metadata has a composite SHA-256 of %d parts and %d part sizes (ipas-parts)",
				h.Parts, len(o.PartSizes)), fixCorrupt}
		}
		if ds := partDigests(o); ds != nil && compositeOf(ds) != h {
			return want, &objectError{fmt.Sprintf("the remote index's part SHA-256s do not make its composite SHA-256 %s", o.SHA256), fixCorrupt}
		}
	} else {
		want = h.Digest
	}
	if sum := partSum(o.PartSizes); len(o.PartSizes) > 0 && sum != o.Size {
		return want, &objectError{fmt.Sprintf("its part sizes add up to %d bytes, its size is %d", sum, o.Size), fixCorrupt}
	}
	if o.Remote.Size != 0 && o.Remote.Size != o.Size {
		return want, &objectError{fmt.Sprintf("the remote holds %d bytes, its metadata says %d", o.Remote.Size, o.Size), fixCorrupt}
	}
	return want, nil
}

// withoutBytes returns o's index entry with its bytes on the remote only
// (Options.MetadataOnly): nothing is downloaded, and no blob is named.
func (r *Restorer) withoutBytes(o *remoteindex.Object) (queue.Object, error) {
	if _, err := checkMeta(o); err != nil {
		return queue.Object{}, err
	}
	if o.ETag == "" {
		// Metadata of format 0 without an ETag: only the bytes tell it.
		return queue.Object{}, &objectError{"its metadata has no ETag, which only its bytes can give",
			"restore it without --metadata-only"}
	}
	return archive.RemoteOnly(o.ToQueue("", nil), o.PartSizes), nil
}

// fetch downloads o and returns its index entry with its blobs pinned;
// staged says its blob is staged, not yet durable (small.go).
func (r *Restorer) fetch(ctx context.Context, o *remoteindex.Object, fetched *atomic.Int64) (q queue.Object, staged bool, err error) {
	want, err := checkMeta(o)
	if err != nil {
		return queue.Object{}, false, err
	}
	switch {
	case stages(o):
		q, err = r.fetchStaged(ctx, o, want, fetched)
		return q, err == nil, err
	case len(o.PartSizes) == 0 && o.Size <= r.opts.RangeSize:
		b, err := r.fetchWhole(ctx, o, want, fetched)
		if err != nil {
			return queue.Object{}, false, err
		}
		if o.ETag == "" { // metadata of format 0: a single-part object's ETag is its MD5
			o.ETag = fmt.Sprintf("%x", b.MD5)
		}
		return o.ToQueue(b.Digest.String(), nil), false, nil
	}
	q, err = r.fetchRanges(ctx, o, want, fetched)
	return q, false, err
}

// fetchWhole streams a small object straight into the store, which checks
// its SHA-256 and keeps nothing if it does not match.
func (r *Restorer) fetchWhole(ctx context.Context, o *remoteindex.Object, want store.Digest, fetched *atomic.Int64) (store.Blob, error) {
	var err error
	for attempt := 0; attempt <= r.opts.Retries; attempt++ {
		if attempt > 0 && !r.backoff(ctx, attempt) {
			return store.Blob{}, ctx.Err()
		}
		var b store.Blob
		if b, err = r.fetchWholeOnce(ctx, o, want, fetched); err == nil || !retryable(err) {
			return b, err
		}
		r.log.Debug().Err(err).Str("object", o.Name()).Int("attempt", attempt+1).Msg("restore: get failed")
	}
	return store.Blob{}, fmt.Errorf("restore: get %s: %w (after %d attempts)", o.Name(), err, r.opts.Retries+1)
}

func (r *Restorer) fetchWholeOnce(ctx context.Context, o *remoteindex.Object, want store.Digest, fetched *atomic.Int64) (store.Blob, error) {
	var body io.Reader = strings.NewReader("")
	if o.Size > 0 {
		rc, err := r.get(ctx, o, 0, o.Size, fetched)
		if err != nil {
			return store.Blob{}, err
		}
		defer rc.Close()
		body = rc
	}
	b, err := r.blobs.PutVerified(ctx, exactly(body, o.Size), want)
	var mismatch *store.DigestMismatchError
	switch {
	case errors.As(err, &mismatch):
		return store.Blob{}, corrupt(o, mismatch.Got.String())
	case errors.Is(err, errShort) || errors.Is(err, errLong):
		return store.Blob{}, &objectError{fmt.Sprintf("the remote sent a different size than the %d bytes it lists (%v)", o.Size, err), fixCorrupt}
	}
	return b, err
}

func corrupt(o *remoteindex.Object, got string) error {
	return &objectError{fmt.Sprintf("its bytes hash to SHA-256 %s but its metadata says %s", got, o.SHA256), fixCorrupt}
}

// retryable reports whether trying a GET again may help.
func retryable(err error) bool {
	var oe *objectError
	return !fatal(err) && !errors.As(err, &oe) && !errors.Is(err, replication.ErrNotFound)
}

func partSum(sizes []int64) int64 {
	var n int64
	for _, s := range sizes {
		n += s
	}
	return n
}
