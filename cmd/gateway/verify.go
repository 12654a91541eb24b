package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// errCorruptArchive makes `gateway verify` exit non-zero after it has listed every problem.
var errCorruptArchive = errors.New("the archive has corrupt or missing blobs (listed above)")

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gateway verify [FLAGS]\n\n"+
			"Re-reads every object in the archive and checks its bytes against the SHA-256 in the\n"+
			"index; objects whose bytes are on the remote only are counted, not read. The daemon\n"+
			"must be stopped. Exits 1 if any object is corrupt or missing.\n\n")
		fs.PrintDefaults()
	}
	var cf configFlags
	cf.register(fs)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	return withStoppedDaemonArchive(&cf, func(ctx context.Context, a *dataArchive, _ zerolog.Logger) error {
		return verifyArchive(ctx, a, stdout)
	})
}

// verifyArchive checks every object of every bucket and prints one line per problem
// (naming the file and the fix) and a summary.
func verifyArchive(ctx context.Context, a *dataArchive, out io.Writer) error {
	buckets, err := a.node.Buckets()
	if err != nil {
		return err
	}
	var objects, bad, remoteOnly int
	var bytes int64
	for _, b := range buckets {
		after := ""
		for {
			page, more, err := a.node.ListObjects(b.Name, "", after, queue.DefaultListLimit)
			if err != nil {
				return err
			}
			for _, o := range page {
				if !archive.Local(o) {
					remoteOnly++ // no local bytes to check
					continue
				}
				objects++
				bytes += o.Size
				if err := verifyObject(ctx, a.store, o); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					bad++
					fmt.Fprintf(out, "CORRUPT %s/%s: %v\n", o.Bucket, o.Key, err)
				}
			}
			if !more || len(page) == 0 {
				break
			}
			after = page[len(page)-1].Key
		}
	}
	fmt.Fprintf(out, "verified %d objects (%d bytes) in %d buckets: %d corrupt\n", objects, bytes, len(buckets), bad)
	if remoteOnly > 0 {
		fmt.Fprintf(out, "%d objects have their bytes on the remote only (restored with --metadata-only): nothing local to verify\n", remoteOnly)
	}
	if bad > 0 {
		return errCorruptArchive
	}
	return nil
}

// verifyObject re-hashes the object's blobs. Blobs are named by their SHA-256, so
// Verify proves each one; a single-blob object's SHA-256 is its blob's name, and a
// multipart object is the concatenation of its part blobs, whose composite hash
// (package objecthash) is its blob names'.
func verifyObject(ctx context.Context, st *store.Store, o queue.Object) error {
	parts := o.Parts
	if objecthash.IsComposite(o.SHA256) {
		names := make([]string, len(parts))
		for i, p := range parts {
			names[i] = p.Blob
		}
		if h, err := objecthash.CompositeOf(names); err != nil || h.String() != o.SHA256 {
			return fmt.Errorf("index entry has composite sha256 %s, its %d part blobs make %s (%v)", o.SHA256, len(parts), h, err)
		}
	}
	if len(parts) == 0 {
		if o.SHA256 != "" && o.SHA256 != o.Blob {
			return fmt.Errorf("index entry has sha256 %s but blob %s", o.SHA256, o.Blob)
		}
		parts = []queue.ObjectPart{{Blob: o.Blob, Size: o.Size}}
	}
	var total int64
	for _, p := range parts {
		d, err := store.ParseDigest(p.Blob)
		if err != nil {
			return fmt.Errorf("index entry names blob %q: %w", p.Blob, err)
		}
		if err := st.Verify(ctx, d, p.Size); err != nil {
			return err
		}
		total += p.Size
	}
	if total != o.Size {
		return fmt.Errorf("index entry says %d bytes, its blobs hold %d", o.Size, total)
	}
	return nil
}
