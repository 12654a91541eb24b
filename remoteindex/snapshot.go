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
	// ListVersions lists every version of a versioned bucket, key by key,
	// newest first (queue.Node).
	ListVersions(bucket, prefix, keyMarker, versionIDMarker string, limit int) ([]queue.ObjectVersion, bool, error)
}

// pageSize is how many objects are read from the index at once.
const pageSize = 1000

// Write streams a snapshot of idx to w: h, every bucket (completed by
// settings, which may be nil), and every object in full-name order, one page
// of the index at a time. An object with a composite hash in a snapshot
// whose h.Format is below FormatComposite returns ErrFormatTooOld: write it
// again with that format. Each page is a consistent read; objects put or
// deleted while Write runs may or may not appear, which is why h.TakenAt must
// be taken before Write starts.
func Write(ctx context.Context, w io.Writer, idx Index, h Header, settings func(*Bucket)) (Trailer, error) {
	buckets, err := idx.Buckets()
	if err != nil {
		return Trailer{}, fmt.Errorf("remoteindex: snapshot: %w", err)
	}
	slices.SortFunc(buckets, func(a, b queue.Bucket) int { return BucketOrder(a.Name, b.Name) })
	for _, b := range buckets {
		if b.Settings[queue.SettingVersioning] != "" {
			h.Format = max(h.Format, FormatVersioned) // it lists versions
		}
	}
	iw, err := NewWriter(w, h)
	if err != nil {
		return Trailer{}, err
	}
	for _, b := range buckets {
		sb := Bucket{Name: b.Name, Created: b.Created}
		if b.Owner != "" {
			sb.setSetting(SettingOwner, b.Owner)
		}
		if v := b.Settings[queue.SettingVersioning]; v != "" {
			sb.setSetting(SettingVersioning, v)
		}
		if settings != nil {
			settings(&sb)
		}
		if err := iw.AddBucket(sb); err != nil {
			return Trailer{}, err
		}
	}
	for _, b := range buckets {
		if b.Settings[queue.SettingVersioning] != "" {
			if err := writeVersions(ctx, iw, idx, b.Name); err != nil {
				return Trailer{}, err
			}
			continue
		}
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

// writeVersions writes every version of a versioned bucket: each key's
// current object, then its noncurrent versions and delete markers, newest
// first.
func writeVersions(ctx context.Context, iw *Writer, idx Index, bucket string) error {
	km, vm := "", ""
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("remoteindex: snapshot: %w", err)
		}
		page, more, err := idx.ListVersions(bucket, "", km, vm, pageSize)
		if errors.Is(err, queue.ErrNoSuchBucket) {
			return nil // deleted while the snapshot ran
		}
		if err != nil {
			return fmt.Errorf("remoteindex: snapshot bucket %s: %w", bucket, err)
		}
		for i := range page {
			o := FromQueue(&page[i].Object)
			o.Noncurrent = !page[i].Latest
			if err := iw.AddObject(&o); err != nil {
				return err
			}
		}
		if !more || len(page) == 0 {
			return nil
		}
		last := page[len(page)-1]
		km, vm = last.Key, last.S3VersionID()
	}
}
