package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/internal/logring"
	"github.com/ipas/ipas/internal/s3name"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/watcher"
)

// pageSources is what the archive and diagnostics endpoints read beyond the
// replication state: the archive, the drop folders' configuration and the
// log ring.
type pageSources struct {
	objects *archive.Archive
	folders []watcher.Folder
	ring    *logring.Ring // nil: no log kept
	// testing is held while a remote test runs: one at a time.
	testing sync.Mutex
}

var (
	_ admin.Archive     = (*control)(nil)
	_ admin.Diagnostics = (*control)(nil)
)

// skipPrefix sorts after every key that starts with the string it is
// appended to: 0xFF never occurs in UTF-8.
const skipPrefix = "\xff"

// Buckets implements admin.Archive.
func (c *control) Buckets(context.Context) (admin.BucketList, error) {
	bs, err := c.node.Buckets()
	if err != nil {
		return admin.BucketList{}, err
	}
	out := admin.BucketList{Buckets: make([]admin.Bucket, 0, len(bs))}
	for _, b := range bs {
		out.Buckets = append(out.Buckets, admin.Bucket{Name: b.Name, Created: b.Created.UTC()})
	}
	return out, nil
}

// CreateBucket implements admin.Archive.
func (c *control) CreateBucket(ctx context.Context, name string) error {
	if err := s3name.CheckBucket(name); err != nil {
		return fmt.Errorf("%w: %v", admin.ErrInvalid, err)
	}
	err := c.node.CreateBucket(ctx, name, time.Now())
	if errors.Is(err, queue.ErrBucketExists) {
		return fmt.Errorf("%w: bucket %s exists already", admin.ErrConflict, name)
	}
	if err == nil {
		c.log.Info().Str("bucket", name).Msg("bucket created by request")
	}
	return err
}

// ListObjects implements admin.Archive: keys are rolled up at "/" into
// prefixes, each counting as one entry of the page; a page ends after the
// entry it names in Next.
func (c *control) ListObjects(_ context.Context, req admin.ListRequest) (admin.Listing, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = admin.DefaultListLimit
	}
	out := admin.Listing{Bucket: req.Bucket, Prefix: req.Prefix, Prefixes: []string{}, Objects: []admin.ObjectEntry{}}
	cursor := req.After
	if cp, ok := commonPrefix(cursor, req.Prefix); ok {
		cursor = cp + skipPrefix
	}
	count, last := 0, ""
	for {
		objs, more, err := c.node.ListObjects(req.Bucket, req.Prefix, cursor, limit-count+1)
		if err != nil {
			return out, notFound(err)
		}
		jumped := false
		for _, o := range objs {
			if count == limit {
				out.Next = last
				return out, nil
			}
			count++
			if cp, ok := commonPrefix(o.Key, req.Prefix); ok {
				out.Prefixes = append(out.Prefixes, cp)
				last, cursor, jumped = cp, cp+skipPrefix, true
				break
			}
			e, err := c.entry(o)
			if err != nil {
				return out, err
			}
			out.Objects = append(out.Objects, e)
			last, cursor = o.Key, o.Key
		}
		if !jumped && !more {
			return out, nil
		}
	}
}

// commonPrefix returns the "folder" directly under prefix that key is in.
func commonPrefix(key, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", false
	}
	i := strings.Index(rest, admin.ListDelimiter)
	if i < 0 {
		return "", false
	}
	return prefix + rest[:i+1], true
}

func (c *control) entry(o queue.Object) (admin.ObjectEntry, error) {
	rs, err := c.node.Replication(o)
	if err != nil {
		return admin.ObjectEntry{}, err
	}
	return admin.ObjectEntry{Bucket: o.Bucket, Key: o.Key, Size: o.Size, Modified: o.ModTime.UTC(), ETag: o.ETag,
		ContentType: o.ContentType, Replication: rs.String(), RemoteOnly: o.RemoteOnly}, nil
}

// notFound turns the journal's "no such bucket or key" into the API's.
func notFound(err error) error {
	if errors.Is(err, queue.ErrNoSuchBucket) || errors.Is(err, queue.ErrNoSuchKey) {
		return fmt.Errorf("%w: %v", admin.ErrNotFound, err)
	}
	return err
}

// DeleteObject implements admin.Archive, as an S3 DELETE does.
func (c *control) DeleteObject(ctx context.Context, ref admin.ObjectRef) error {
	if _, err := c.node.Object(ref.Bucket, ref.Key); err != nil {
		return notFound(err)
	}
	if err := c.node.DeleteObject(ctx, ref.Bucket, ref.Key, ""); err != nil {
		return err
	}
	c.log.Info().Str("bucket", ref.Bucket).Str("key", ref.Key).Msg("object deleted by request")
	return nil
}

// OpenObject implements admin.Archive. The object's blobs stay pinned until
// the reader is closed, so that an overwrite meanwhile cannot collect them.
func (c *control) OpenObject(ctx context.Context, ref admin.ObjectRef) (admin.ObjectEntry, io.ReadCloser, error) {
	o, err := c.node.Object(ref.Bucket, ref.Key)
	if err != nil {
		return admin.ObjectEntry{}, nil, notFound(err)
	}
	e, err := c.entry(o)
	if err != nil {
		return e, nil, err
	}
	if o.RemoteOnly {
		return e, nil, fmt.Errorf("%w: the bytes of %s/%s are on the remote only; `gateway restore --merge` fetches them", admin.ErrConflict, o.Bucket, o.Key)
	}
	release, err := c.pages.objects.PinObject(o)
	if err != nil {
		return e, nil, err
	}
	return e, pinnedReader{c.pages.objects.Open(ctx, o, 0, o.Size), release}, nil
}

type pinnedReader struct {
	io.ReadCloser
	release func()
}

func (r pinnedReader) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}

// PutObject implements admin.Archive: the body becomes a blob, then the
// journal names it, as `gateway import` and an S3 PUT do; it returns once
// both are durable.
func (c *control) PutObject(ctx context.Context, ref admin.ObjectRef, contentType string, body io.Reader) (admin.ObjectEntry, error) {
	if err := s3name.CheckKey(ref.Key); err != nil {
		return admin.ObjectEntry{}, fmt.Errorf("%w: %v", admin.ErrInvalid, err)
	}
	if ok, err := c.node.BucketExists(ref.Bucket); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: no bucket %s", admin.ErrNotFound, ref.Bucket)
		}
		return admin.ObjectEntry{}, err
	}
	blob, err := c.pages.objects.Put(ctx, body)
	if err != nil {
		return admin.ObjectEntry{}, err
	}
	defer c.pages.objects.Unpin(blob.Digest)
	o := archive.NewObject(ref.Bucket, ref.Key, blob, time.Now())
	o.ContentType = contentType
	if o.ContentType == "" {
		o.ContentType = "application/octet-stream"
	}
	if err := c.pages.objects.Commit(ctx, o, nil); err != nil {
		return admin.ObjectEntry{}, notFound(err)
	}
	c.log.Info().Str("bucket", ref.Bucket).Str("key", ref.Key).Int64("size", o.Size).Msg("object uploaded through the console")
	return c.entry(o)
}

// TestRemote implements admin.Diagnostics with the checks of `gateway
// remote test`, against the remote replication uses.
func (c *control) TestRemote(ctx context.Context) (admin.RemoteTest, error) {
	if !c.pages.testing.TryLock() {
		return admin.RemoteTest{}, fmt.Errorf("%w: a remote test is running already", admin.ErrConflict)
	}
	defer c.pages.testing.Unlock()
	ctx, cancel := context.WithTimeout(ctx, remoteCheckTimeout)
	defer cancel()
	start := time.Now()
	rep := c.rep.client.Check(ctx)
	out := admin.RemoteTest{Remote: rep.Remote, Local: c.rep.local != nil, OK: rep.OK, Verdict: rep.Verdict(),
		Steps: make([]admin.RemoteTestStep, 0, len(rep.Steps)), Time: start.UTC(), Seconds: time.Since(start).Seconds()}
	for _, s := range rep.Steps {
		out.Steps = append(out.Steps, admin.RemoteTestStep{Name: s.Name, OK: s.OK, Warn: s.Warn, Detail: s.Detail})
	}
	c.log.Info().Bool("ok", rep.OK).Str("verdict", out.Verdict).Msg("remote test by request")
	return out, nil
}

// dropStats is the watcher's running totals; *watcher.Watcher has them.
type dropStats interface {
	Stats() watcher.Stats
}

var _ dropStats = (*watcher.Watcher)(nil)

// DropFolders implements admin.Diagnostics.
func (c *control) DropFolders(context.Context) (admin.DropFolders, error) {
	out := admin.DropFolders{Folders: make([]admin.DropFolder, 0, len(c.pages.folders)), SkippedDirs: dropReport(c.drop).Skipped}
	for _, f := range c.pages.folders {
		out.Folders = append(out.Folders, admin.DropFolder{Path: f.Path, Bucket: f.Bucket, Prefix: f.Prefix, AfterIngest: f.AfterIngest})
	}
	if ds, ok := c.drop.(dropStats); ok {
		s := ds.Stats()
		out.Pending, out.Ingested, out.Skipped, out.Errors, out.Scans, out.Degraded = s.Pending, s.Versions, s.Skipped, s.Errors, s.Scans, s.Degraded
	}
	return out, nil
}

// Log implements admin.Diagnostics.
func (c *control) Log(_ context.Context, q admin.LogQuery) (admin.LogPage, error) {
	if c.pages.ring == nil {
		return admin.LogPage{Lines: []admin.LogLine{}}, nil
	}
	return c.pages.ring.Page(q), nil
}
