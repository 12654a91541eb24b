package replication_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/reconcile"
	"github.com/ipas/ipas/replication"
)

// requestCounter is a proxy in front of the remote that counts requests by
// method and S3 operation ("PUT copy", "HEAD"...).
type requestCounter struct {
	mu sync.Mutex
	n  map[string]int
	*httptest.Server
}

func newRequestCounter(t *testing.T, endpoint string) *requestCounter {
	up, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c := &requestCounter{n: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(up)
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Method
		switch {
		case r.Header.Get("X-Amz-Copy-Source") != "":
			op += " copy"
		case r.URL.Query().Has("uploadId") || r.URL.Query().Has("uploads"):
			op += " multipart"
		case r.URL.Query().Has("versioning"):
			op += " versioning"
		}
		c.mu.Lock()
		c.n[op]++
		c.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *requestCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

// TestVersionsOffsite: three versions of a key of a versioned bucket (the
// middle one large enough for a multipart upload, so that the lanes could
// finish them out of order) all reach the remote, and the plain copy is the
// newest; an unversioned bucket replicates as before, one PUT per object
// and nothing under the versions directory. Once with a remote bucket
// without versioning (the versions directory), once with versioning
// Enabled (the remote's own versions), once with Object Lock and a default
// retention (the same, every version locked).
func TestVersionsOffsite(t *testing.T) {
	for _, mode := range []string{modeUnversioned, modeVersioned, modeLocked} {
		remoteVersioned := mode != modeUnversioned
		t.Run(mode, func(t *testing.T) {
			q := newVersionsEnv(t, mode)
			q.bucket("docs", true)
			q.bucket("plain", false)
			cfg := testConfig()
			versions := [][]byte{
				[]byte("version 1: the report as written"),
				testutil.Content(2, int(cfg.MultipartThreshold)+1000),
				[]byte("version 3: ENCRYPTED BY RANSOMWARE"),
			}
			var ids []string
			for _, v := range versions {
				ids = append(ids, q.put("docs", "report.txt", v))
			}
			q.put("plain", "a.txt", []byte("unversioned a"))
			q.put("plain", "b.txt", []byte("unversioned b"))

			counter := newRequestCounter(t, q.gw.Endpoint)
			q.run(cfg, counter.URL, nil)
			waitFor(t, "every version replicated", func() bool { return q.pending() == 0 })
			reqs := counter.take()
			t.Logf("requests for 3 versions of docs/report.txt (one multipart) and 2 unversioned objects: %v", reqs)

			if got := firstOf(q.remoteSHA256("docs", "report.txt")); got != sha256Hex(versions[2]) {
				t.Errorf("the plain copy has sha256 %s, want the newest version's %s", got, sha256Hex(versions[2]))
			}
			for _, k := range []string{"a.txt", "b.txt"} {
				if !q.remoteExists("plain", k) {
					t.Errorf("plain/%s is not on the remote", k)
				}
			}
			cur, err := q.node.Object("docs", "report.txt")
			if err != nil {
				t.Fatal(err)
			}
			// Every version is journaled as offsite, noncurrent ones too,
			// with the remote's version ID on a versioned remote.
			for i, id := range ids {
				v, err := q.node.ObjectVersion("docs", "report.txt", id)
				if err != nil || !v.Replicated() || (v.Replica.VersionID != "") != remoteVersioned {
					t.Errorf("version %d: replica %+v, %v", i+1, v.Replica, err)
				}
			}
			if remoteVersioned {
				checkRemoteVersions(t, q, ids, versions, cur)
			} else {
				checkVersionsDir(t, q, ids, versions)
			}
			// A reconcile finds every current object on the remote and
			// nothing there that only the remote holds: the versions
			// directory is not taken for garbage.
			rec, err := reconcile.New(q.node, q.newRemote(q.gw.Endpoint), reconcile.RecordedETag(cfg.MultipartThreshold, true), testLogger(t)).Run(ctxT(t), nil)
			if err != nil || rec.Missing+rec.Different+rec.Queued+rec.RemoteOnly != 0 || rec.Checked != 3 {
				t.Errorf("reconcile after replication: %+v, %v; want 3 checked and nothing missing, different or only on the remote", rec, err)
			}
			// Only the versioned bucket's objects cost more than one PUT:
			// 2 small PUTs of plain/ + 2 small versions + one multipart.
			if reqs["PUT"] != 4 {
				t.Errorf("%d PUTs, want 4 (2 unversioned objects, 2 small versions)", reqs["PUT"])
			}
		})
	}
}

// checkVersionsDir: every version is under .ipas/versions/, byte-identical,
// with its version ID in its metadata; the unversioned bucket has nothing
// there.
func checkVersionsDir(t *testing.T, q *queueEnv, ids []string, versions [][]byte) {
	t.Helper()
	for i, id := range ids {
		key := "pi1/" + replication.VersionName("docs", "report.txt", id)
		out, err := q.direct.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String(remoteBucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("version %d: %v", i+1, err)
			continue
		}
		body, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || sha256Hex(body) != sha256Hex(versions[i]) {
			t.Errorf("version %d at %s: sha256 %s, %v; want %s", i+1, key, sha256Hex(body), err, sha256Hex(versions[i]))
		}
		if got := out.Metadata[replication.MetaVersionID]; got != id {
			t.Errorf("version %d: metadata %s = %q, want %q", i+1, replication.MetaVersionID, got, id)
		}
	}
	l, err := q.direct.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String(remoteBucket), Prefix: aws.String("pi1/" + replication.VersionsDir)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Contents {
		if !strings.HasPrefix(aws.ToString(o.Key), "pi1/"+replication.VersionsDir+"docs/") {
			t.Errorf("%s: an unversioned bucket's object under the versions directory", aws.ToString(o.Key))
		}
	}
	if len(l.Contents) != len(ids) {
		t.Errorf("%d objects under the versions directory, want %d", len(l.Contents), len(ids))
	}
}

// checkRemoteVersions: the remote keeps the three versions itself, the
// newest as its latest, each with its version ID in its metadata, and the
// journal records the remote version ID of the current one.
func checkRemoteVersions(t *testing.T, q *queueEnv, ids []string, versions [][]byte, cur queue.Object) {
	t.Helper()
	key := "pi1/docs/report.txt"
	out, err := q.direct.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{Bucket: aws.String(remoteBucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string][]byte{}
	for i, id := range ids {
		byID[id] = versions[i]
	}
	seen, remoteOf := map[string]bool{}, map[string]string{}
	for _, v := range out.Versions {
		obj, err := q.direct.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String(remoteBucket), Key: v.Key, VersionId: v.VersionId})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		id := obj.Metadata[replication.MetaVersionID]
		if want, ok := byID[id]; !ok || sha256Hex(body) != sha256Hex(want) {
			t.Errorf("remote version %s: local version %q, sha256 %s: not one of ours", aws.ToString(v.VersionId), id, sha256Hex(body))
		}
		if aws.ToBool(v.IsLatest) && id != ids[len(ids)-1] {
			t.Errorf("the remote's latest version is local version %s, want the newest %s", id, ids[len(ids)-1])
		}
		remoteOf[aws.ToString(v.VersionId)] = id
		seen[id] = true
	}
	// When the newest version went up before an older one, it was copied
	// back on top: the journal may name its first upload, a version that
	// holds the same bytes.
	if got := remoteOf[cur.Replica.VersionID]; got != cur.VersionID {
		t.Errorf("the journal says the current version %s is remote version %q, which holds local version %q",
			cur.VersionID, cur.Replica.VersionID, got)
	}
	for i, id := range ids {
		if !seen[id] {
			t.Errorf("version %d (%s) is not among the remote's versions", i+1, id)
		}
	}
}

// TestVersionsOffsite_NullVersion: an object put before its bucket's
// versioning was enabled (the null version) and a version put after it,
// both waiting to be replicated: the null version goes first, to the plain
// key, and is kept (under .ipas/versions/.../null, or as one of the remote's
// versions) when the newer version replaces it there.
func TestVersionsOffsite_NullVersion(t *testing.T) {
	for _, mode := range []string{modeUnversioned, modeVersioned} {
		remoteVersioned := mode == modeVersioned
		t.Run(mode, func(t *testing.T) {
			q := newVersionsEnv(t, mode)
			q.bucket("docs", false)
			legacy, newer := []byte("written before versioning"), []byte("written after versioning was enabled")
			q.put("docs", "notes.txt", legacy)
			q.bucket("docs", true)
			q.put("docs", "notes.txt", newer)
			q.run(testConfig(), q.gw.Endpoint, nil)
			waitFor(t, "both replicated", func() bool { return q.pending() == 0 })

			if got := firstOf(q.remoteSHA256("docs", "notes.txt")); got != sha256Hex(newer) {
				t.Errorf("the plain copy has sha256 %s, want the newer version's", got)
			}
			var kept []string
			if remoteVersioned {
				out, err := q.direct.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{Bucket: aws.String(remoteBucket), Prefix: aws.String("pi1/docs/notes.txt")})
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range out.Versions {
					kept = append(kept, q.versionSHA256(t, aws.ToString(v.Key), aws.ToString(v.VersionId)))
				}
			} else {
				kept = append(kept, q.versionSHA256(t, "pi1/"+replication.VersionName("docs", "notes.txt", replication.NullVersion), ""))
			}
			if !slices.Contains(kept, sha256Hex(legacy)) {
				t.Errorf("the null version is not kept on the remote: %v", kept)
			}
		})
	}
}

// versionSHA256 is the SHA-256 of a remote key (one of its versions).
func (q *queueEnv) versionSHA256(t *testing.T, key, versionID string) string {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(remoteBucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := q.direct.GetObject(ctxT(t), in)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return sha256Hex(b)
}

// TestVersionsOffsite_Requests counts the remote requests of 20 new small
// objects in an unversioned bucket and in a versioned one (each object is
// its key's current version when it is replicated, the common case): one
// PUT each for the unversioned bucket whatever the remote; for the
// versioned bucket one PUT each on a remote with versioning, a PUT and a
// server-side COPY each on a remote without.
func TestVersionsOffsite_Requests(t *testing.T) {
	const n = 20
	for _, mode := range []string{modeUnversioned, modeVersioned} {
		remoteVersioned := mode == modeVersioned
		t.Run(mode, func(t *testing.T) {
			q := newVersionsEnv(t, mode)
			q.bucket("versioned", true)
			q.bucket("plain", false)
			counter := newRequestCounter(t, q.gw.Endpoint)
			q.run(testConfig(), counter.URL, nil)
			perObject := map[string]map[string]int{}
			for _, b := range []string{"plain", "versioned"} {
				counter.take()
				for i := range n {
					q.put(b, fmt.Sprintf("f%02d", i), testutil.Content(i, 1000+i))
				}
				waitFor(t, b+" replicated", func() bool { return q.pending() == 0 })
				perObject[b] = counter.take()
				// Once per term: the remote's versioning, the listing of
				// abandoned uploads.
				delete(perObject[b], "GET versioning")
				delete(perObject[b], "GET multipart")
				t.Logf("%s bucket, %d objects: %v", b, n, perObject[b])
			}
			if got := perObject["plain"]; got["PUT"] != n || len(got) != 1 {
				t.Errorf("unversioned bucket: %v, want %d PUTs and nothing else", got, n)
			}
			want := map[string]int{"PUT": n}
			if !remoteVersioned {
				want["PUT copy"] = n
			}
			if got := perObject["versioned"]; !maps.Equal(got, want) {
				t.Errorf("versioned bucket: %v, want %v", got, want)
			}
		})
	}
}

// The remote buckets versions are replicated to.
const (
	modeUnversioned = "unversioned remote"
	modeVersioned   = "versioned remote"
	modeLocked      = "object lock"
)

// newVersionsEnv is a queue replicating to a versitygw bucket of mode.
func newVersionsEnv(t *testing.T, mode string) *queueEnv {
	t.Helper()
	gw := testutil.StartVersityGWVersioning(t)
	switch mode {
	case modeLocked:
		gw.CreateLockedBucket(t, remoteBucket, types.ObjectLockRetentionModeCompliance, 1)
	case modeVersioned:
		gw.CreateBucket(t, remoteBucket)
		gw.EnableVersioning(t, remoteBucket)
	default:
		gw.CreateBucket(t, remoteBucket)
	}
	e := newEnvWith(t, gw, t.TempDir())
	node := openQueue(t, filepath.Join(e.dir, "raft"))
	t.Cleanup(func() { node.Close(context.Background()) })
	return &queueEnv{env: e, node: node}
}

// bucket creates the local bucket name, or enables its versioning.
func (q *queueEnv) bucket(name string, versioned bool) {
	q.t.Helper()
	if err := q.node.CreateBucket(ctxT(q.t), name, time.Time{}); err != nil && !errors.Is(err, queue.ErrBucketExists) {
		q.t.Fatal(err)
	}
	if !versioned {
		return
	}
	if err := q.node.SetBucketSetting(ctxT(q.t), name, queue.SettingVersioning, queue.VersioningEnabled); err != nil {
		q.t.Fatal(err)
	}
}

func TestVersionName(t *testing.T) {
	for _, c := range []struct{ bucket, key, version string }{
		{"docs", "a.txt", "01ABC"},
		{"docs", "deep/dir/with/slashes/b.txt", "null"},
		{"docs", "ends-with-slash/", "v1"},
	} {
		name := replication.VersionName(c.bucket, c.key, c.version)
		b, k, v, ok := replication.ParseVersionName(name)
		if !ok || b != c.bucket || k != c.key || v != c.version {
			t.Errorf("%s: parsed %q %q %q %v", name, b, k, v, ok)
		}
	}
	for _, bad := range []string{"docs/a.txt", ".ipas/versions/docs", ".ipas/versions/docs/a.txt/", ".ipas/index/latest"} {
		if _, _, _, ok := replication.ParseVersionName(bad); ok {
			t.Errorf("%s parsed as a version's name", bad)
		}
	}
}

// TestVersionsOffsite_MirrorDelete: under the mirror policy, a version and
// the delete marker put over it before either was replicated: whichever
// job runs first, the plain copy ends deleted and the version is kept.
func TestVersionsOffsite_MirrorDelete(t *testing.T) {
	for _, mode := range []string{modeUnversioned, modeVersioned} {
		t.Run(mode, func(t *testing.T) {
			q := newVersionsEnv(t, mode)
			q.bucket("docs", true)
			data := []byte("deleted under mirror")
			id := q.put("docs", "gone.txt", data)
			if err := q.node.DeleteObject(ctxT(t), "docs", "gone.txt", ""); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig()
			cfg.Policies = map[string]string{"docs": replication.PolicyMirror}
			q.run(cfg, q.gw.Endpoint, nil)
			waitFor(t, "both replicated", func() bool { return q.pending() == 0 })
			if q.remoteExists("docs", "gone.txt") {
				t.Error("the plain copy is there after a delete under mirror")
			}
			var kept string
			if mode == modeVersioned {
				out, err := q.direct.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{Bucket: aws.String(remoteBucket), Prefix: aws.String("pi1/docs/gone.txt")})
				if err != nil || len(out.Versions) == 0 {
					t.Fatalf("remote versions: %+v, %v", out, err)
				}
				kept = q.versionSHA256(t, aws.ToString(out.Versions[0].Key), aws.ToString(out.Versions[0].VersionId))
			} else {
				kept = q.versionSHA256(t, "pi1/"+replication.VersionName("docs", "gone.txt", id), "")
			}
			if kept != sha256Hex(data) {
				t.Errorf("the deleted version is not kept on the remote (sha256 %s)", kept)
			}
		})
	}
}
