package remoteindex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ipas/ipas/queue"
)

// Index is the part of the journal a snapshot reads (queue.Node).
type Index interface {
	Buckets() ([]queue.Bucket, error)
	ListObjects(bucket, prefix, startAfter string, limit int) ([]queue.Object, bool, error)
}

// pageSize is how many objects are read from the index at once.
const pageSize = 1000

// Write streams a snapshot of idx to w: h, every bucket (completed by
// settings, which may be nil), and every object in full-name order, one page
// of the index at a time. Each page is a consistent read; objects put or
// deleted while Write runs may or may not appear, which is why h.TakenAt must
// be taken before Write starts.
func Write(ctx context.Context, w io.Writer, idx Index, h Header, settings func(*Bucket)) (Trailer, error) {
	buckets, err := idx.Buckets()
	if err != nil {
		return Trailer{}, fmt.Errorf("remoteindex: snapshot: %w", err)
	}
	slices.SortFunc(buckets, func(a, b queue.Bucket) int { return BucketOrder(a.Name, b.Name) })
	iw, err := NewWriter(w, h)
	if err != nil {
		return Trailer{}, err
	}
	for _, b := range buckets {
		sb := Bucket{Name: b.Name, Created: b.Created}
		if b.Owner != "" {
			sb.setSetting(SettingOwner, b.Owner)
		}
		if settings != nil {
			settings(&sb)
		}
		if err := iw.AddBucket(sb); err != nil {
			return Trailer{}, err
		}
	}
	for _, b := range buckets {
		after := ""
		for {
			if err := ctx.Err(); err != nil {
				return Trailer{}, fmt.Errorf("remoteindex: snapshot: %w", err)
			}
			page, more, err := idx.ListObjects(b.Name, "", after, pageSize)
			if errors.Is(err, queue.ErrNoSuchBucket) {
				break // deleted while the snapshot ran
			}
			if err != nil {
				return Trailer{}, fmt.Errorf("remoteindex: snapshot bucket %s: %w", b.Name, err)
			}
			for i := range page {
				o := FromQueue(&page[i])
				if err := iw.AddObject(&o); err != nil {
					return Trailer{}, err
				}
			}
			if !more || len(page) == 0 {
				break
			}
			after = page[len(page)-1].Key
		}
	}
	if err := iw.Close(); err != nil {
		return Trailer{}, err
	}
	return iw.Trailer(), nil
}
