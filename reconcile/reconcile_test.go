package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// fakeRemote is a sorted listing served in pages; it stands for S3's LIST.
type fakeRemote struct {
	entries  []Entry // sorted by Name
	pageSize int
	requests int
}

type Entry = replication.ListedObject

func (f *fakeRemote) ListObjects(_ context.Context, opts replication.ListOptions, fn func([]Entry) error) (replication.ListStats, error) {
	var st replication.ListStats
	after := opts.StartAfter
	for {
		f.requests++
		st.Requests++
		i := sort.Search(len(f.entries), func(i int) bool { return f.entries[i].Name > after })
		var page []Entry
		for ; i < len(f.entries) && len(page) < f.pageSize; i++ {
			if strings.HasPrefix(f.entries[i].Name, opts.Prefix) {
				page = append(page, f.entries[i])
			}
		}
		if len(page) == 0 {
			return st, nil
		}
		st.Objects += len(page)
		if err := fn(page); err != nil {
			return st, err
		}
		after = page[len(page)-1].Name
		if len(page) < f.pageSize {
			return st, nil
		}
	}
}

// fakeIndex holds objects per bucket and the IDs of pending jobs.
type fakeIndex struct {
	objects  map[string][]queue.Object // sorted by key
	pending  map[string]bool
	gone     map[string]bool // versions replaced since they were listed
	requeued []string
	recorded []string
}

func (f *fakeIndex) Buckets() ([]queue.Bucket, error) {
	var out []queue.Bucket
	for b := range f.objects {
		out = append(out, queue.Bucket{Name: b})
	}
	slices.SortFunc(out, func(a, b queue.Bucket) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeIndex) ListObjects(bucket, _, after string, limit int) ([]queue.Object, bool, error) {
	objs := f.objects[bucket]
	i := sort.Search(len(objs), func(i int) bool { return objs[i].Key > after })
	end := min(len(objs), i+limit)
	return slices.Clone(objs[i:end]), end < len(objs), nil
}

func (f *fakeIndex) Job(id string) (queue.Job, error) {
	if f.pending[id] {
		return queue.Job{ID: id}, nil
	}
	return queue.Job{}, fmt.Errorf("job %s: %w", id, queue.ErrNoSuchJob)
}

func (f *fakeIndex) RequeueObjects(_ context.Context, objs []queue.Object) []error {
	errs := make([]error, len(objs))
	for i, o := range objs {
		if f.gone[o.VersionID] {
			errs[i] = queue.ErrNoSuchKey
			continue
		}
		f.requeued = append(f.requeued, o.Bucket+"/"+o.Key)
	}
	return errs
}

func (f *fakeIndex) RecordReplicas(_ context.Context, objs []queue.Object) []error {
	errs := make([]error, len(objs))
	for i, o := range objs {
		if f.gone[o.VersionID] {
			errs[i] = queue.ErrNoSuchKey
			continue
		}
		f.recorded = append(f.recorded, fmt.Sprintf("%s/%s=%s", o.Bucket, o.Key, o.Replica.ETag))
	}
	return errs
}

func obj(bucket, key string, size int64, etag string) queue.Object {
	return queue.Object{Bucket: bucket, Key: key, VersionID: "v-" + bucket + "/" + key, Size: size, ETag: etag}
}

func replicated(o queue.Object, etag string) queue.Object {
	o.Replica = queue.Replica{ETag: etag, Size: o.Size, At: time.Now()}
	return o
}

// remoteOnly is o as a metadata-only restore records it: replicated, no blobs.
func remoteOnly(o queue.Object) queue.Object {
	o = replicated(o, o.ETag)
	o.RemoteOnly = true
	return o
}

func build(objs []queue.Object, remote []Entry) (*fakeIndex, *fakeRemote) {
	ix := &fakeIndex{objects: map[string][]queue.Object{}, pending: map[string]bool{}, gone: map[string]bool{}}
	for _, o := range objs {
		ix.objects[o.Bucket] = append(ix.objects[o.Bucket], o)
	}
	for _, list := range ix.objects {
		slices.SortFunc(list, func(a, b queue.Object) int { return strings.Compare(a.Key, b.Key) })
	}
	r := slices.Clone(remote)
	slices.SortFunc(r, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return ix, &fakeRemote{entries: r, pageSize: 1000}
}

func TestReconcile(t *testing.T) {
	same := func(o queue.Object) Entry { return Entry{Name: o.Bucket + "/" + o.Key, Size: o.Size, ETag: o.ETag} }
	a, ab := obj("a", "y", 10, "e0y"), obj("a-b", "x", 20, "e0x")
	big := obj("a", "big", 1<<30, "e0big-3")
	// ListRequests: one per page of each local bucket, then one per remote
	// bucket and one more to find the remote buckets the index lacks.
	tests := []struct {
		name     string
		objs     []queue.Object
		remote   []Entry
		pending  []string // version IDs whose job is pending
		gone     []string // version IDs replaced after the listing
		want     Result
		queued   []string
		recorded []string // nil: not checked
	}{{
		name:   "all offsite, in buckets whose remote prefixes interleave",
		objs:   []queue.Object{a, ab, obj("a", "x-y/1", 1, "e1"), obj("a", "x/2", 2, "e2")},
		remote: []Entry{same(a), same(ab), same(obj("a", "x-y/1", 1, "e1")), same(obj("a", "x/2", 2, "e2"))},
		want:   Result{Buckets: 2, Checked: 4, Recorded: 4, ListRequests: 5},
	}, {
		name:     "replicas recorded already are not recorded again",
		objs:     []queue.Object{replicated(a, "e0y"), replicated(ab, "other")},
		remote:   []Entry{same(a), same(ab)},
		want:     Result{Buckets: 2, Checked: 2, Different: 1, Queued: 1, QueuedSample: []string{"a-b/x"}, ListRequests: 5},
		queued:   []string{"a-b/x"},
		recorded: []string{},
	}, {
		name:   "the recorded ETag of a large object is checked",
		objs:   []queue.Object{replicated(big, "abc-3")},
		remote: []Entry{{Name: "a/big", Size: 1 << 30, ETag: "def-3"}},
		want:   Result{Buckets: 1, Checked: 1, Different: 1, Queued: 1, QueuedSample: []string{"a/big"}, ListRequests: 3},
		queued: []string{"a/big"},
	}, {
		name:   "an empty remote: everything is queued",
		objs:   []queue.Object{a, ab},
		want:   Result{Buckets: 2, Checked: 2, Missing: 2, Queued: 2, ListRequests: 3, QueuedSample: []string{"a/y", "a-b/x"}},
		queued: []string{"a/y", "a-b/x"},
	}, {
		name:     "other size, other ETag, and a large object whose ETag cannot be known",
		objs:     []queue.Object{a, ab, big},
		remote:   []Entry{{Name: "a/y", Size: 11, ETag: "e0y"}, {Name: "a-b/x", Size: 20, ETag: "changed"}, {Name: "a/big", Size: 1 << 30, ETag: "whatever-200"}},
		want:     Result{Buckets: 2, Checked: 3, Different: 2, Queued: 2, Recorded: 1, ListRequests: 5, QueuedSample: []string{"a/y", "a-b/x"}},
		queued:   []string{"a/y", "a-b/x"},
		recorded: []string{"a/big=whatever-200"},
	}, {
		name:    "a missing object whose upload is pending is left to it",
		objs:    []queue.Object{a, ab},
		remote:  []Entry{same(ab)},
		pending: []string{a.VersionID},
		want:    Result{Buckets: 2, Checked: 2, Missing: 1, Pending: 1, Recorded: 1, ListRequests: 4},
	}, {
		name:   "a version replaced meanwhile is not counted as queued",
		objs:   []queue.Object{a},
		gone:   []string{a.VersionID},
		want:   Result{Buckets: 1, Checked: 1, Missing: 1, ListRequests: 2},
		queued: nil,
	}, {
		name:   "an object whose bytes were on the remote only is lost with them, never queued",
		objs:   []queue.Object{remoteOnly(a), remoteOnly(ab)},
		remote: []Entry{{Name: "a-b/x", Size: 20, ETag: "changed"}},
		want:   Result{Buckets: 2, Checked: 2, Missing: 1, Different: 1, Lost: 2, LostSample: []string{"a/y", "a-b/x"}, ListRequests: 4},
		queued: nil,
	}, {
		name: "remote-only objects, in a local bucket and in a bucket deleted locally",
		objs: []queue.Object{a},
		remote: []Entry{same(a), {Name: "a/deleted", Size: 1}, {Name: "a/z", Size: 1}, {Name: "gone/1", Size: 1},
			{Name: "gone/2", Size: 1}},
		want: Result{Buckets: 1, Checked: 1, Recorded: 1, RemoteOnly: 4, ListRequests: 5,
			RemoteOnlySample: []string{"a/deleted", "a/z", "gone/1", "gone/2"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, rem := build(tc.objs, tc.remote)
			for _, id := range tc.pending {
				ix.pending[id] = true
			}
			for _, id := range tc.gone {
				ix.gone[id] = true
			}
			got, err := New(ix, rem, RecordedETag(16<<20, true), zerolog.Nop()).Run(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("result\n got %+v\nwant %+v", got, tc.want)
			}
			if fmt.Sprint(ix.requeued) != fmt.Sprint(tc.queued) {
				t.Fatalf("queued %v, want %v", ix.requeued, tc.queued)
			}
			if tc.recorded != nil && fmt.Sprint(ix.recorded) != fmt.Sprint(tc.recorded) {
				t.Fatalf("recorded %v, want %v", ix.recorded, tc.recorded)
			}
			if int64(rem.requests) != got.ListRequests {
				t.Fatalf("the remote saw %d requests, the result says %d", rem.requests, got.ListRequests)
			}
		})
	}
}

// A pass over many objects sends one LIST request per page of 1,000 and
// queues in batches; progress is reported as pages arrive.
func TestReconcile_PagesAndBatches(t *testing.T) {
	var objs []queue.Object
	var remote []Entry
	for i := range 2500 {
		o := obj("photos", fmt.Sprintf("img-%05d.jpg", i), int64(i), fmt.Sprintf("md5-%d", i))
		objs = append(objs, o)
		if i%2 == 0 {
			remote = append(remote, Entry{Name: "photos/" + o.Key, Size: o.Size, ETag: o.ETag})
		}
	}
	ix, rem := build(objs, remote)
	var progress []int64
	got, err := New(ix, rem, RecordedETag(16<<20, true), zerolog.Nop()).Run(context.Background(), func(r Result) { progress = append(progress, r.ListRequests) })
	if err != nil {
		t.Fatal(err)
	}
	if got.Checked != 2500 || got.Missing != 1250 || got.Queued != 1250 || len(ix.requeued) != 1250 {
		t.Fatalf("result %+v, %d requeued; want 2500 checked, 1250 missing and queued", got, len(ix.requeued))
	}
	// 2 pages of the bucket, then the search for remote buckets the index
	// lacks: one request per remote bucket and one that finds none.
	if got.ListRequests != 4 {
		t.Fatalf("%d LIST requests for 1,250 remote objects in one bucket, want 4", got.ListRequests)
	}
	if len(progress) != 2 {
		t.Fatalf("progress reported %d times, want once per page (2)", len(progress))
	}
	if len(got.QueuedSample) != DefaultSampleSize {
		t.Fatalf("queued sample has %d names, want %d", len(got.QueuedSample), DefaultSampleSize)
	}
}

// A remote that does not list in byte order cannot be merged with the index:
// the pass fails rather than report objects as missing or remote-only.
func TestReconcile_RemoteOutOfOrder(t *testing.T) {
	ix, rem := build([]queue.Object{obj("a", "x", 1, "e")}, nil)
	rem.entries = []Entry{{Name: "a/y", Size: 1}, {Name: "a/x", Size: 1}}
	_, err := New(ix, rem, RecordedETag(16<<20, true), zerolog.Nop()).Run(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "not in byte order") {
		t.Fatalf("err %v, want the order named", err)
	}
	if len(ix.requeued) != 0 {
		t.Fatalf("queued %v from an unordered listing", ix.requeued)
	}
}
