package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
)

// manyWriters put the -many objects to versitygw at once.
const manyWriters = 16

// populateDirect writes c.many small objects straight to versitygw under
// manyPrefix, each with the metadata replication writes for it
// (replication.MetaFromObject of the index entry a PUT would have made), and
// uploads a remote index of them with remoteindex.Snapshotter, as a daemon's
// shutdown does. It is the fast path to a large remote: no local archive.
func populateDirect(ctx context.Context, c config, rem remoteSetup, sc *scenario, logw io.Writer) error {
	log := zerolog.New(logw).Level(zerolog.WarnLevel)
	rc := remote.DefaultConfig()
	rc.Endpoint, rc.Bucket, rc.Prefix, rc.Region, rc.PathStyle = rem.vgw.Endpoint(), remoteBucket, manyPrefix, benchRegion, true
	rc.AccessKey, rc.SecretKey = benchAccessKey, benchSecretKey
	cl, err := remote.New(ctx, rc, log)
	if err != nil {
		return err
	}
	// Keys sort in the order they are made: the snapshot lists them in it.
	objs := smallObjects(c, c.many, 2, func(i int) string { return fmt.Sprintf("d%03d/f%06d.bin", i/1000, i) })
	entries := make([]queue.Object, len(objs))
	now := time.Now().UTC()
	err = parallel(len(objs), manyWriters, func(i int) error {
		q, err := putDirect(ctx, cl, sc.bucket, objs[i], now)
		if err != nil {
			return err
		}
		entries[i] = q
		return nil
	})
	if err != nil {
		return err
	}
	sc.objects, sc.bytes = int64(len(objs)), total(objs)
	src := &entrySource{bucket: queue.Bucket{Name: sc.bucket, Created: now}, objects: entries}
	id := remoteindex.Identity{ArchiveID: "restorebench-many", Endpoint: rc.Endpoint, Bucket: rc.Bucket, Prefix: rc.Prefix}
	snap, err := remoteindex.NewSnapshotter(src, cl, id, filepath.Join(rem.work, "snapshot-tmp"), log)
	if err != nil {
		return err
	}
	_, err = snap.Upload(ctx)
	return err
}

// putDirect writes one object to the remote as replication would, and
// returns its index entry with the remote copy recorded.
func putDirect(ctx context.Context, cl *remote.Client, bucket string, o object, now time.Time) (queue.Object, error) {
	body, err := io.ReadAll(o.body())
	if err != nil {
		return queue.Object{}, err
	}
	sha := sha256.Sum256(body)
	sum := md5.Sum(body)
	q := queue.Object{Bucket: bucket, Key: o.key, VersionID: queue.NewVersionID(now), Blob: hex.EncodeToString(sha[:]),
		SHA256: hex.EncodeToString(sha[:]), Size: o.size, ETag: hex.EncodeToString(sum[:]), ContentType: "application/octet-stream", ModTime: now}
	c, err := cl.PutObject(ctx, bucket+"/"+o.key, bytes.NewReader(body), o.size, sum[:], replication.MetaFromObject(&q))
	if err != nil {
		return queue.Object{}, fmt.Errorf("put %s/%s: %w", bucket, o.key, err)
	}
	q.Replica = queue.Replica{ETag: c.ETag, Size: o.size, At: time.Now().UTC()}
	return q, nil
}

// entrySource is an index of one bucket held in memory, for the Snapshotter.
type entrySource struct {
	bucket  queue.Bucket
	objects []queue.Object // in key order
}

var _ remoteindex.Source = (*entrySource)(nil)

func (s *entrySource) Buckets() ([]queue.Bucket, error) { return []queue.Bucket{s.bucket}, nil }

func (s *entrySource) Stats() (queue.Stats, error) {
	return queue.Stats{Buckets: 1, Objects: int64(len(s.objects)), AppliedIndex: 1}, nil
}

// ListVersions implements remoteindex.Source: the bench's bucket is not
// versioned, so the snapshot never asks.
func (s *entrySource) ListVersions(bucket, prefix, keyMarker, versionIDMarker string, limit int) ([]queue.ObjectVersion, bool, error) {
	return nil, false, fmt.Errorf("entrySource: bucket %s is not versioned", bucket)
}

func (s *entrySource) ListObjects(bucket, prefix, startAfter string, limit int) ([]queue.Object, bool, error) {
	if bucket != s.bucket.Name || prefix != "" {
		return nil, false, fmt.Errorf("entrySource: list %s prefix %q: only whole bucket %s", bucket, prefix, s.bucket.Name)
	}
	i := sort.Search(len(s.objects), func(i int) bool { return s.objects[i].Key > startAfter })
	j := min(i+limit, len(s.objects))
	return s.objects[i:j], j < len(s.objects), nil
}
