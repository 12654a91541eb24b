package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
)

// controlPrefix is where IPAS keeps its own files on the remote; no bucket
// name starts with a dot.
const controlPrefix = ".ipas/"

// headMode says what a HEAD is for.
type headMode uint8

const (
	headRestore      headMode = iota // restore what the remote has
	headMaybeDeleted                 // absent from the snapshot: deleted, or put after it?
)

type headJob struct {
	listed Listed
	mode   headMode
}

// planner turns the remote listing (and the snapshot) into the plan file.
type planner struct {
	r     *Restorer
	snap  *snapshot
	plan  *planFile
	heads chan headJob
	wg    sync.WaitGroup
	nHead atomic.Int64
	errMu sync.Mutex
	err   error // the first error that stops planning
	// currents are the version IDs of the versioned current objects planned
	// from HEADs (no snapshot), by name; errMu guards it.
	currents map[string]string
}

// plan lists the remote and writes every object to restore into pf. Objects
// not restored are reported to Progress as skipped, with the reason.
func (r *Restorer) plan(ctx context.Context, snap *snapshot, pf *planFile) (heads int64, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &planner{r: r, snap: snap, plan: pf, heads: make(chan headJob)}
	for range r.opts.Heads {
		p.wg.Add(1)
		go p.headWorker(ctx, cancel)
	}
	listErr := r.remote.List(ctx, r.opts.listPrefix(), func(page []Listed) error {
		for _, l := range page {
			if err := p.listed(ctx, l); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if listErr == nil && snap != nil {
		for snap.next != nil {
			p.notOnRemote(snap.next)
			snap.advance()
		}
		listErr = p.versions()
	}
	close(p.heads)
	p.wg.Wait()
	if listErr == nil && p.err == nil && snap == nil {
		listErr = p.keptVersions(ctx)
	}
	if listErr == nil && snap != nil && snap.err != nil {
		listErr = fmt.Errorf("restore: the remote index %s: %w", snap.name, snap.err)
	}
	if p.err != nil {
		return p.nHead.Load(), p.err
	}
	if listErr != nil {
		return p.nHead.Load(), fmt.Errorf("restore: %w: %w", errList, listErr)
	}
	return p.nHead.Load(), nil
}

// listed decides what to do with one listed object.
func (p *planner) listed(ctx context.Context, l Listed) error {
	if err := p.versions(); err != nil {
		return err
	}
	if strings.HasPrefix(l.Name, controlPrefix) || !p.r.opts.selects(l.Name) {
		return nil
	}
	if !strings.Contains(l.Name, "/") {
		p.r.skip(l.Name, l.Size, "not under a bucket (no slash in the name): not written by IPAS", "")
		return nil
	}
	s := p.snap
	if s == nil {
		return p.head(ctx, l, headRestore)
	}
	for s.next != nil && s.next.Name() < l.Name {
		p.notOnRemote(s.next)
		s.advance()
	}
	if s.next != nil && s.next.Name() == l.Name {
		o := *s.next
		s.advance()
		if o.Remote.ETag != "" && o.Remote.ETag == l.ETag && o.Remote.Size == l.Size {
			o.Remote = remoteindex.Replica{ETag: l.ETag, Size: l.Size, At: l.LastModified, VersionID: o.Remote.VersionID}
			return p.decide(&o)
		}
		// Replaced on the remote since, or replicated after the snapshot:
		// what the remote holds now decides.
		return p.head(ctx, l, headRestore)
	}
	taken := s.header.TakenAt
	if l.LastModified.Before(taken.Add(-p.r.opts.SkewMargin)) {
		if p.r.opts.IncludeDeleted {
			return p.head(ctx, l, headRestore)
		}
		p.r.skip(l.Name, l.Size, "deleted locally before the remote index was taken", "add --include-deleted to restore it")
		return nil
	}
	return p.head(ctx, l, headMaybeDeleted)
}

// notOnRemote reports an object of the snapshot that the remote lacks.
func (p *planner) notOnRemote(o *remoteindex.Object) {
	if !p.r.opts.selects(o.Name()) {
		return
	}
	p.r.skip(o.Name(), o.Size, "in the remote index but not on the remote: it was not replicated before the index was taken, or was deleted from the remote since",
		"nothing to restore from this remote; look for another copy")
}

func (p *planner) head(ctx context.Context, l Listed, mode headMode) error {
	select {
	case p.heads <- headJob{l, mode}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *planner) headWorker(ctx context.Context, stop context.CancelFunc) {
	defer p.wg.Done()
	for j := range p.heads {
		if ctx.Err() != nil {
			continue
		}
		if err := p.headOne(ctx, j); err != nil {
			p.errMu.Lock()
			if p.err == nil {
				p.err = err
			}
			p.errMu.Unlock()
			stop()
		}
	}
}

func (p *planner) headOne(ctx context.Context, j headJob) error {
	p.nHead.Add(1)
	l, o, err := p.r.remote.Head(ctx, j.listed.Name)
	switch {
	case fatal(err):
		return err
	case err != nil:
		p.r.fail(Outcome{Name: j.listed.Name, Size: j.listed.Size, Reason: fmt.Sprintf("HEAD: %v", err),
			Fix: "check the network and run restore again: it resumes"})
		return nil
	}
	// The remote's version ID (a remote with versioning) stays with the
	// version, so that once noncurrent it is read as that version.
	o.Remote = remoteindex.Replica{ETag: l.ETag, Size: l.Size, At: l.LastModified, VersionID: o.Remote.VersionID}
	if j.mode == headMaybeDeleted {
		mtime := o.ModTime
		if mtime.IsZero() {
			mtime = l.LastModified
		}
		if mtime.Before(p.snap.header.TakenAt) && !p.r.opts.IncludeDeleted {
			p.r.skip(l.Name, l.Size, "deleted locally before the remote index was taken", "add --include-deleted to restore it")
			return nil
		}
	}
	if p.snap == nil {
		p.current(&o)
	}
	return p.decide(&o)
}

// decide plans o unless it cannot or need not be restored.
func (p *planner) decide(o *remoteindex.Object) error {
	name := o.Name()
	if o.SHA256 == "" {
		p.r.skip(name, o.Size, "not written by IPAS (no ipas-sha256 metadata): its bytes cannot be verified",
			"copy it with any S3 tool if you need it")
		return nil
	}
	local, err := p.r.index.Object(o.Bucket, o.Key)
	switch {
	case err == nil && local.SHA256 == o.SHA256 && local.ETag == o.ETag && (archive.Local(local) || p.r.opts.MetadataOnly):
		// A version whose bytes are on the remote only is not restored
		// yet, unless only its metadata is asked for.
		p.r.skip(name, o.Size, "already in the archive", "")
		return nil
	case err == nil && local.ModTime.After(o.ModTime):
		p.r.skip(name, o.Size, "a newer local version exists", "")
		return nil
	case err != nil && !errors.Is(err, queue.ErrNoSuchKey) && !errors.Is(err, queue.ErrNoSuchBucket):
		return fmt.Errorf("restore: %s: %w", name, err)
	}
	return p.plan.add(o)
}
