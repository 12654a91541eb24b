package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/internal/s3name"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// DefaultImportJobs is how many files `gateway import` archives at once.
const DefaultImportJobs = 4

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gateway import [FLAGS] BUCKET DIR\n\n"+
			"Archives every regular file under DIR into BUCKET, with the path relative to DIR as\n"+
			"the key. The daemon must be stopped. One line is printed per object once it is durable.\n\n")
		fs.PrintDefaults()
	}
	var cf configFlags
	cf.register(fs)
	jobs := fs.Int("jobs", DefaultImportJobs, "files archived concurrently")
	if err := parseFlags(fs, args, 2); err != nil {
		return err
	}
	bucket, root := fs.Arg(0), fs.Arg(1)
	if err := s3name.CheckBucket(bucket); err != nil {
		return err
	}
	if *jobs < 1 {
		return fmt.Errorf("--jobs %d: use 1 or more", *jobs)
	}
	return withStoppedDaemonArchive(&cf, func(ctx context.Context, a *dataArchive, log zerolog.Logger) error {
		if err := a.node.CreateBucket(ctx, bucket, time.Now()); err != nil && !errors.Is(err, queue.ErrBucketExists) {
			return err
		}
		im := importer{objects: a.objects, bucket: bucket, log: log, out: stdout}
		return im.run(ctx, root, *jobs)
	})
}

// importObjects is the archive (*archive.Archive) as import uses it.
type importObjects interface {
	Put(ctx context.Context, r io.Reader) (store.Blob, error)
	Unpin(d store.Digest)
	Commit(ctx context.Context, o queue.Object, inline []byte) error
}

var _ importObjects = (*archive.Archive)(nil)

// importer archives files into one bucket.
type importer struct {
	objects importObjects
	bucket  string
	log     zerolog.Logger
	mu      sync.Mutex // serialises lines on out
	out     io.Writer
}

// run walks root and archives its regular files with jobs workers. It returns the
// first walk error, or a summary error if any file could not be archived.
func (im *importer) run(ctx context.Context, root string, jobs int) error {
	paths := make(chan string)
	var failed int
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range paths {
				if err := im.archiveFile(ctx, root, p); err != nil {
					im.mu.Lock()
					failed++
					im.mu.Unlock()
					im.log.Error().Err(err).Str("path", p).Msg("import")
				}
			}
		}()
	}
	walkErr := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.Type().IsRegular() {
			paths <- p
		} else if !d.IsDir() {
			im.log.Warn().Str("path", p).Str("type", d.Type().String()).Msg("import: skipped, not a regular file")
		}
		return nil
	})
	close(paths)
	wg.Wait()
	if walkErr != nil {
		return fmt.Errorf("import %s: %w", root, walkErr)
	}
	if failed > 0 {
		return fmt.Errorf("import %s: %d file(s) not archived; see the log above", root, failed)
	}
	return nil
}

// archiveFile stores one file and journals it; the object is acknowledged (printed)
// only after both are durable.
func (im *importer) archiveFile(ctx context.Context, root, path string) error {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return err
	}
	key := filepath.ToSlash(rel)
	if err := s3name.CheckKey(key); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	blob, err := im.objects.Put(ctx, f)
	if err != nil {
		return err
	}
	defer im.objects.Unpin(blob.Digest)
	if blob.Size != st.Size() {
		return fmt.Errorf("%s changed while it was read (%d bytes read, %d at open); run the import again", path, blob.Size, st.Size())
	}
	obj := archive.NewObject(im.bucket, key, blob, time.Now())
	obj.ContentType = contentType(path)
	obj.Metadata = map[string]string{"x-amz-meta-mtime": strconv.FormatInt(st.ModTime().Unix(), 10)}
	if err := im.objects.Commit(ctx, obj, nil); err != nil {
		return err
	}
	im.mu.Lock()
	fmt.Fprintf(im.out, "archived %s/%s %d %s\n", im.bucket, key, blob.Size, blob.Digest)
	im.mu.Unlock()
	return nil
}

func contentType(path string) string {
	if t := mime.TypeByExtension(filepath.Ext(path)); t != "" {
		return t
	}
	return "application/octet-stream"
}
