// Command reconcilebench measures a reconcile of many objects against a real
// versitygw: the requests it sends (counted at the HTTP transport: LIST pages,
// and that no HEAD and no GET of object bytes is among them) and how long it
// takes, for a remote that holds every object (the daily pass) and for an
// empty one (a new remote: every object is queued again).
//
//	go run ./bench/reconcilebench -n 100000 -runs 3
//
// The index is built directly in a journal (no blobs: a reconcile reads none),
// and the remote's objects are written as versitygw's posix files with their
// ETag attribute, which is what its LIST reads.
package main

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/reconcile"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
)

const (
	defaultObjects = 100_000
	defaultRuns    = 3
	chunk          = 10_000 // objects per PutObjects call
	fullBucket     = "offsite"
	emptyBucket    = "new-remote"
)

// buckets get objects in these shares; "docs-old/" sorts before "docs/" on
// the remote and after it in the index.
var buckets = []struct {
	name  string
	share int // percent
}{{"docs", 20}, {"docs-old", 10}, {"photos", 70}}

func main() {
	n := flag.Int("n", defaultObjects, "objects in the archive")
	runs := flag.Int("runs", defaultRuns, "reconcile passes against the full remote")
	bin := flag.String("versitygw", "versitygw", "versitygw binary")
	flag.Parse()
	if err := run(*n, *runs, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "reconcilebench:", err)
		os.Exit(1)
	}
}

func run(n, runs int, bin string) error {
	ctx := context.Background()
	// The counting client is a plain *http.Client, which the SDK refuses to
	// give a CA bundle; versitygw speaks plain HTTP on loopback.
	os.Unsetenv("AWS_CA_BUNDLE")
	dir, err := os.MkdirTemp("", "reconcilebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	node, objs, err := buildIndex(ctx, filepath.Join(dir, "journal"), n)
	if err != nil {
		return err
	}
	defer node.Close(ctx)
	root := filepath.Join(dir, "remote")
	if err := writeRemote(root, objs); err != nil {
		return err
	}
	objs = nil
	fmt.Printf("setup: %d objects indexed and written to the remote in %s; VmHWM %s\n", n, time.Since(t0).Round(time.Millisecond), vmHWM())
	vgw, err := startVersity(ctx, bin, root)
	if err != nil {
		return err
	}
	defer vgw.stop()

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "remote\tobjects\tLIST (pass)\tLIST (wire)\tHEAD\tGET\tother\tmissing\tqueued\tseconds\tobjects/s\theap peak MiB\t")
	pass := func(bucket string) error {
		counter := &requestCounter{}
		client, err := remote.New(ctx, remote.Config{Endpoint: vgw.endpoint(), Bucket: bucket, Region: "us-east-1", PathStyle: true,
			AccessKey: accessKey, SecretKey: secretKey}, zerolog.Nop(), remote.WithHTTPClient(counter.client()))
		if err != nil {
			return err
		}
		rec := reconcile.New(node, client, reconcile.RecordedETag(16<<20, true), zerolog.Nop())
		heap := sampleHeap()
		start := time.Now()
		res, err := rec.Run(ctx, nil)
		took := time.Since(start)
		peak := heap()
		if err != nil {
			return err
		}
		c := counter.snapshot()
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.0f\t%.1f\t\n", bucket, res.Checked, res.ListRequests, c["LIST"], c["HEAD"],
			c["GET"], c["other"], res.Missing+res.Different, res.Queued, took.Seconds(), float64(res.Checked)/took.Seconds(), float64(peak)/(1<<20))
		return nil
	}
	for range runs {
		if err := bareList(ctx, tw, vgw); err != nil {
			return err
		}
		if err := pass(fullBucket); err != nil {
			return err
		}
	}
	if err := pass(emptyBucket); err != nil { // queues every object: last
		return err
	}
	tw.Flush()
	fmt.Printf("VmHWM after the passes: %s\n", vmHWM())
	return nil
}

// bareList times a listing of the whole remote that does nothing with it: what
// the remote's LIST costs by itself, beside the reconcile.
func bareList(ctx context.Context, tw *tabwriter.Writer, vgw *versity) error {
	client, err := remote.New(ctx, remote.Config{Endpoint: vgw.endpoint(), Bucket: fullBucket, Region: "us-east-1", PathStyle: true,
		AccessKey: accessKey, SecretKey: secretKey}, zerolog.Nop())
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := client.ListObjects(ctx, replication.ListOptions{}, func([]replication.ListedObject) error { return nil })
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(tw, "%s (bare LIST)\t%d\t\t%d\t\t\t\t\t\t%.2f\t%.0f\t\t\n", fullBucket, st.Objects, st.Requests, took.Seconds(), float64(st.Objects)/took.Seconds())
	return nil
}

type object struct {
	bucket, key string
	body        []byte
}

// buildIndex journals n objects, each recorded as replicated with the ETag a
// single PUT gets (its MD5).
func buildIndex(ctx context.Context, dir string, n int) (*queue.Node, []object, error) {
	node := queue.New(queue.DefaultConfig(dir), zerolog.Nop())
	if err := node.Open(ctx); err != nil {
		return nil, nil, err
	}
	var objs []object
	for _, b := range buckets {
		if err := node.CreateBucket(ctx, b.name, time.Now()); err != nil {
			return nil, nil, err
		}
		for i := range n * b.share / 100 {
			// "a-b/..." sorts between "a/..." and "ab/..." in byte order.
			key := fmt.Sprintf("%s/%04d/img-%07d.jpg", []string{"a", "a-b", "ab"}[i%3], i%1000, i)
			objs = append(objs, object{b.name, key, []byte(fmt.Sprintf("object %s/%s", b.name, key))})
		}
	}
	qobjs := make([]queue.Object, len(objs))
	for i, o := range objs {
		sha, md := sha256.Sum256(o.body), md5.Sum(o.body)
		qobjs[i] = queue.Object{Bucket: o.bucket, Key: o.key, VersionID: queue.NewVersionID(time.Now()), Blob: hex.EncodeToString(sha[:]),
			SHA256: hex.EncodeToString(sha[:]), Size: int64(len(o.body)), ETag: hex.EncodeToString(md[:])}
	}
	for start := 0; start < len(qobjs); start += chunk {
		for _, err := range node.PutObjects(ctx, qobjs[start:min(start+chunk, len(qobjs))]) {
			if err != nil {
				return nil, nil, err
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(qobjs); i += 64 {
				o := &qobjs[i]
				if err := node.JobReplicated(ctx, o.VersionID, queue.Replica{ETag: o.ETag, Size: o.Size}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return node, objs, <-errs
}

// writeRemote lays the objects out as versitygw's posix backend keeps them:
// one file per object under the bucket's directory, its ETag in an xattr.
func writeRemote(root string, objs []object) error {
	if err := os.MkdirAll(filepath.Join(root, emptyBucket), 0o755); err != nil {
		return err
	}
	for _, o := range objs {
		path := filepath.Join(root, fullBucket, o.bucket, o.key)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, o.body, 0o644); err != nil {
			return err
		}
		md := md5.Sum(o.body)
		if err := unix.Setxattr(path, "user.etag", []byte(hex.EncodeToString(md[:])), 0); err != nil {
			return fmt.Errorf("set the ETag of %s (the filesystem needs user xattrs): %w", path, err)
		}
	}
	return nil
}

// sampleHeap starts sampling the heap in use (after a collection, so that the
// setup's garbage is not counted) and returns a function that stops and
// returns the peak above that baseline, in bytes.
func sampleHeap() func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak - base
	}
}

func vmHWM() string {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
