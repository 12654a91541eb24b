package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// remoteOnlyBuckets counts the objects of remote buckets that the index
// does not have at all (deleted locally with everything in them). The
// remote is listed from its start; after each bucket the listing skips to
// the next one: "BUCKET0" sorts right after every "BUCKET/KEY" ('0' follows
// '/'), and before any name of a longer bucket "BUCKET0...".
func (p *passState) remoteOnlyBuckets(ctx context.Context, local []string) error {
	known := make(map[string]bool, len(local))
	for _, b := range local {
		known[b] = true
	}
	after := ""
	for {
		bucket := ""
		st, err := p.r.remote.ListObjects(ctx, replication.ListOptions{StartAfter: after}, func(page []replication.ListedObject) error {
			bucket, _, _ = strings.Cut(page[0].Name, "/")
			return errFirstPage
		})
		p.res.ListRequests += int64(st.Requests)
		if err != nil && !errors.Is(err, errFirstPage) {
			return fmt.Errorf("reconcile: list the remote's buckets after %q: %w", after, err)
		}
		if bucket == "" {
			return nil
		}
		if !known[bucket] {
			if err := p.remoteOnlyBucket(ctx, bucket); err != nil {
				return err
			}
		}
		after = bucket + "0"
	}
}

// errFirstPage stops a listing after its first page.
var errFirstPage = errors.New("reconcile: first page read")

func (p *passState) remoteOnlyBucket(ctx context.Context, bucket string) error {
	st, err := p.r.remote.ListObjects(ctx, replication.ListOptions{Prefix: bucket + "/"}, func(page []replication.ListedObject) error {
		for i := range page {
			p.remoteOnly(&page[i])
		}
		p.report()
		return nil
	})
	p.res.ListRequests += int64(st.Requests)
	if err != nil {
		return fmt.Errorf("reconcile: list the remote's %s/: %w", bucket, err)
	}
	return nil
}

func (p *passState) remoteOnly(e *replication.ListedObject) {
	p.res.RemoteOnly++
	if len(p.res.RemoteOnlySample) < p.r.SampleSize {
		p.res.RemoteOnlySample = append(p.res.RemoteOnlySample, e.Name)
	}
}

// bucket merges the remote listing of PREFIX/BUCKET/ with the index's, as
// the remote's pages arrive.
func (p *passState) bucket(ctx context.Context, bucket string) error {
	ll := localListing{index: p.r.index, bucket: bucket}
	prefix := bucket + "/"
	o, lok, err := ll.next()
	if err != nil {
		return err
	}
	last := ""
	st, err := p.r.remote.ListObjects(ctx, replication.ListOptions{Prefix: prefix}, func(page []replication.ListedObject) error {
		for i := range page {
			e := &page[i]
			key, ok := strings.CutPrefix(e.Name, prefix)
			if !ok || (last != "" && e.Name <= last) {
				return fmt.Errorf("the remote listed %q after %q under %q: its listing is not in byte order, "+
					"so it cannot be compared with the index; use an S3 service that lists keys in UTF-8 byte order, as S3 does",
					e.Name, last, prefix)
			}
			last = e.Name
			for lok && o.Key < key {
				if err := p.missing(ctx, o); err != nil {
					return err
				}
				if o, lok, err = ll.next(); err != nil {
					return err
				}
			}
			if !lok || o.Key != key {
				p.remoteOnly(e)
				continue
			}
			if err := p.compare(ctx, o, e); err != nil {
				return err
			}
			if o, lok, err = ll.next(); err != nil {
				return err
			}
		}
		p.report()
		return nil
	})
	p.res.ListRequests += int64(st.Requests)
	if err != nil {
		return fmt.Errorf("reconcile: list the remote's %s: %w", prefix, err)
	}
	for lok {
		if err := p.missing(ctx, o); err != nil {
			return err
		}
		if o, lok, err = ll.next(); err != nil {
			return err
		}
	}
	return nil
}

func (p *passState) missing(ctx context.Context, o queue.Object) error {
	p.res.Checked++
	p.res.Missing++
	return p.queue(ctx, o)
}

// compare checks the remote copy e of o: another size or ETag queues o
// again; a match not recorded yet is recorded.
func (p *passState) compare(ctx context.Context, o queue.Object, e *replication.ListedObject) error {
	p.res.Checked++
	want := p.r.expect(&o)
	if e.Size != o.Size || (want != "" && !strings.EqualFold(want, e.ETag)) {
		p.res.Different++
		p.r.log.Warn().Str("bucket", o.Bucket).Str("key", o.Key).
			Int64("size", o.Size).Int64("remote_size", e.Size).Str("etag", want).Str("remote_etag", e.ETag).
			Msg("the remote copy differs from the local object (changed behind IPAS's back?): uploading it again")
		return p.queue(ctx, o)
	}
	if !o.Replicated() || o.Replica.ETag != e.ETag || o.Replica.Size != e.Size {
		return p.record(ctx, o, e)
	}
	return nil
}
