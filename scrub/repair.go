package scrub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/store"
)

// maxUsers bounds the objects remembered per corrupt blob: a repair needs
// one that is offsite.
const maxUsers = 4

// user is an object version whose bytes include a corrupt blob.
type user struct {
	name       string // "bucket/key"
	versionID  string
	locs       []replication.Location // where its remote copy may be
	objectSize int64
	off, size  int64 // the blob's stretch of the object
	pending    bool  // its put job waits: not offsite yet
}

// repairAll finds the objects that use the corrupt blobs (one pass over the
// index and the job table) and repairs each blob from one of them.
func (s *Scrubber) repairAll(ctx context.Context, corrupt map[store.Digest]string, res *Result) error {
	users, err := s.findUsers(corrupt)
	if err != nil {
		return fmt.Errorf("scrub: find the objects of %d corrupt blobs: %w", len(corrupt), err)
	}
	digests := make([]store.Digest, 0, len(corrupt))
	for d := range corrupt {
		digests = append(digests, d)
	}
	slices.SortFunc(digests, func(a, b store.Digest) int { return strings.Compare(a.String(), b.String()) })
	for _, d := range digests {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scrub: repair: %w", err)
		}
		s.repair(ctx, d, corrupt[d], users[d], res)
	}
	return nil
}

// repair replaces blob d from the remote copy of one of its offsite users.
func (s *Scrubber) repair(ctx context.Context, d store.Digest, path string, users []user, res *Result) {
	log := s.log.With().Str("blob", d.String()).Str("path", path).Logger()
	if len(users) == 0 {
		res.Unreferenced++
		log.Info().Msg("corrupt blob is used by no object: the collector removes it")
		return
	}
	var reasons []string
	for _, u := range users {
		if u.pending {
			continue
		}
		n, err := s.fetch(ctx, d, u)
		if err == nil {
			res.Repaired++
			log.Warn().Str("object", u.name).Int64("offset", u.off).Int64("bytes", n).
				Msg("repaired a corrupt blob with the object's bytes from the remote")
			return
		}
		reasons = append(reasons, err.Error())
	}
	p := Problem{Blob: d.String(), Object: users[0].name, Offsite: len(reasons) > 0}
	if p.Offsite {
		p.Reason = fmt.Sprintf("file %s is corrupt and the remote gave no good copy (%s); fix: check the remote copy "+
			"(`gateway remote reconcile`), then delete the file and upload %s again from your own copy", path, strings.Join(reasons, "; "), p.Object)
	} else {
		res.NotOffsite++
		p.Reason = fmt.Sprintf("file %s is corrupt and %s is not offsite yet (its upload is pending), so no other copy exists; "+
			"fix: restore it from your own copy: delete the file and upload %s again", path, p.Object, p.Object)
	}
	res.UnrepairableCount++
	if len(res.Unrepairable) < DefaultMaxProblems {
		res.Unrepairable = append(res.Unrepairable, p)
	}
	log.Error().Str("object", p.Object).Bool("offsite", p.Offsite).Msg("corrupt blob NOT repaired: " + p.Reason)
}

// fetch reads u's stretch of its remote copy into blob d, from the first of
// u's locations that holds it; the store checks the bytes against d before
// it replaces the file.
func (s *Scrubber) fetch(ctx context.Context, d store.Digest, u user) (int64, error) {
	var first error
	for _, loc := range u.locs {
		n, err := s.fetchAt(ctx, d, u, loc)
		if err == nil {
			return n, nil
		}
		if first == nil || !errors.Is(err, replication.ErrNotFound) && errors.Is(first, replication.ErrNotFound) {
			first = err // what the likeliest copy said, unless it was missing and another is bad
		}
	}
	return 0, first
}

func (s *Scrubber) fetchAt(ctx context.Context, d store.Digest, u user, loc replication.Location) (int64, error) {
	rc, ro, err := s.remote.GetObjectAt(ctx, loc, u.off, u.size)
	if err != nil {
		return 0, fmt.Errorf("fetch bytes %d-%d of %s from the remote: %w", u.off, u.off+u.size-1, u.name, err)
	}
	defer rc.Close()
	if ro.Size != u.objectSize {
		return 0, fmt.Errorf("the remote copy of %s has %d bytes, the archive's %d (changed behind IPAS's back?)", u.name, ro.Size, u.objectSize)
	}
	n, err := s.store.Repair(ctx, d, io.LimitReader(rc, u.size+1))
	if errors.Is(err, store.ErrDigestMismatch) {
		return 0, fmt.Errorf("the remote copy of %s holds other bytes than the archive's (changed behind IPAS's back?)", u.name)
	}
	return n, err
}

// findUsers maps each corrupt blob to the object versions that use it,
// noncurrent versions of versioned buckets included, then to the versions
// whose put jobs still wait.
func (s *Scrubber) findUsers(corrupt map[store.Digest]string) (map[store.Digest][]user, error) {
	users := map[store.Digest][]user{}
	add := func(o *queue.Object, pendingJob bool) error {
		pieces := o.Parts
		if len(pieces) == 0 {
			pieces = []queue.ObjectPart{{Blob: o.Blob, Size: o.Size}}
		}
		off := int64(0)
		for _, p := range pieces {
			d, err := store.ParseDigest(p.Blob)
			_, bad := corrupt[d]
			known := slices.ContainsFunc(users[d], func(u user) bool { return u.versionID == o.VersionID })
			if err == nil && bad && !known && len(users[d]) < maxUsers {
				pending := pendingJob
				if !pending {
					if pending, err = s.hasJob(o.VersionID); err != nil {
						return err
					}
				}
				users[d] = append(users[d], user{name: o.Bucket + "/" + o.Key, versionID: o.VersionID, locs: replication.Locations(o),
					objectSize: o.Size, off: off, size: p.Size, pending: pending})
			}
			off += p.Size
		}
		return nil
	}
	buckets, err := s.index.Buckets()
	if err != nil {
		return nil, err
	}
	for _, b := range buckets {
		keyMarker, versionMarker := "", ""
		for {
			page, more, err := s.index.ListVersions(b.Name, "", keyMarker, versionMarker, queue.DefaultListLimit)
			if err != nil {
				return nil, err
			}
			for i := range page {
				if page[i].DeleteMarker {
					continue
				}
				if err := add(&page[i].Object, false); err != nil {
					return nil, err
				}
			}
			if !more || len(page) == 0 {
				break
			}
			last := page[len(page)-1].Object
			keyMarker, versionMarker = last.Key, last.S3VersionID()
		}
	}
	for after := uint64(0); ; {
		jobs, err := s.index.Jobs(after, queue.DefaultListLimit)
		if err != nil {
			return nil, err
		}
		if len(jobs) == 0 {
			return users, nil
		}
		for i := range jobs {
			j := &jobs[i]
			if j.Op == queue.JobPut {
				if err := add(&j.Object, true); err != nil {
					return nil, err
				}
			}
		}
		after = jobs[len(jobs)-1].Seq
	}
}

func (s *Scrubber) hasJob(id string) (bool, error) {
	_, err := s.index.Job(id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, queue.ErrNoSuchJob):
		return false, nil
	}
	return false, err
}
