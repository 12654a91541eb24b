package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

func enableVersioning(t testing.TB, c *s3.Client, bucket string, status types.BucketVersioningStatus) {
	t.Helper()
	_, err := c.PutBucketVersioning(ctxT(t), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: status}})
	if err != nil {
		t.Fatalf("put bucket versioning %s: %v", status, err)
	}
}

// versionedGateway starts a gateway with one bucket, vbk, versioned.
func versionedGateway(t testing.TB) (*testGateway, *s3.Client) {
	t.Helper()
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "vbk")
	enableVersioning(t, c, "vbk", types.BucketVersioningStatusEnabled)
	return g, c
}

func putVersion(t testing.TB, c *s3.Client, bucket, key string, body []byte) string {
	t.Helper()
	out, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return aws.ToString(out.VersionId)
}

func getVersion(t testing.TB, c *s3.Client, bucket, key, version string) ([]byte, error) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := c.GetObject(ctxT(t), in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	if version != "" && aws.ToString(out.VersionId) != version {
		t.Fatalf("GET %s?versionId=%s answered version %q", key, version, aws.ToString(out.VersionId))
	}
	return io.ReadAll(out.Body)
}

// respHeader returns a header of the HTTP response behind an SDK error.
func respHeader(err error, name string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

func TestBucketVersioningConfiguration(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "vbk")
	get := func() types.BucketVersioningStatus {
		out, err := c.GetBucketVersioning(ctxT(t), &s3.GetBucketVersioningInput{Bucket: aws.String("vbk")})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status
	}
	if s := get(); s != "" {
		t.Fatalf("a new bucket's versioning = %q, want none", s)
	}
	for _, status := range []types.BucketVersioningStatus{types.BucketVersioningStatusEnabled, types.BucketVersioningStatusSuspended} {
		enableVersioning(t, c, "vbk", status)
		if s := get(); s != status {
			t.Fatalf("versioning = %q, want %q", s, status)
		}
	}
	put := func(bucket string, cfg *types.VersioningConfiguration) error {
		_, err := c.PutBucketVersioning(ctxT(t), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket), VersioningConfiguration: cfg})
		return err
	}
	wantCode(t, put("vbk", &types.VersioningConfiguration{Status: "Disabled"}), "MalformedXML")
	wantCode(t, put("vbk", &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled, MFADelete: types.MFADeleteEnabled}), "NotImplemented")
	wantCode(t, put("missing", &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}), "NoSuchBucket")
	if s := get(); s != types.BucketVersioningStatusSuspended {
		t.Fatalf("after refused changes versioning = %q, want Suspended", s)
	}
}

// TestVersionedObjectAnswers checks the status, code and headers of every
// versioned read and delete against S3's.
func TestVersionedObjectAnswers(t *testing.T) {
	_, c := versionedGateway(t)
	one, two := content(1, 3000), content(2, 5000)
	v1 := putVersion(t, c, "vbk", "k", one)
	v2 := putVersion(t, c, "vbk", "k", two)
	if v1 == "" || v2 == "" || v1 == v2 || v1 == queue.NullVersionID {
		t.Fatalf("version IDs %q, %q: want two distinct ones", v1, v2)
	}
	for _, tc := range []struct {
		version string
		want    []byte
	}{{v1, one}, {v2, two}, {"", two}} {
		got, err := getVersion(t, c, "vbk", "k", tc.version)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("GET version %q: %d bytes, %v; want %d bytes back", tc.version, len(got), err, len(tc.want))
		}
	}
	head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(v1)})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(one)) || aws.ToString(head.VersionId) != v1 {
		t.Fatalf("HEAD v1 = %+v, %v", head, err)
	}

	_, err = getVersion(t, c, "vbk", "k", "not_a_version")
	wantCode(t, err, "InvalidArgument")
	_, err = getVersion(t, c, "vbk", "k", "01G65Z755AFWAKHE12NY0CQ9FH")
	wantCode(t, err, "NoSuchVersion")

	del, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Fatalf("DELETE = %+v, %v; want a delete marker with a version", del, err)
	}
	marker := aws.ToString(del.VersionId)
	_, err = getVersion(t, c, "vbk", "k", "")
	wantCode(t, err, "NoSuchKey")
	if respHeader(err, "X-Amz-Delete-Marker") != "true" || respHeader(err, "X-Amz-Version-Id") != marker {
		t.Fatalf("GET of a deleted key: delete marker %q, version %q; want true, %s",
			respHeader(err, "X-Amz-Delete-Marker"), respHeader(err, "X-Amz-Version-Id"), marker)
	}
	_, err = getVersion(t, c, "vbk", "k", marker)
	wantCode(t, err, "MethodNotAllowed")
	if respHeader(err, "X-Amz-Delete-Marker") != "true" {
		t.Fatal("GET of a delete marker lacks x-amz-delete-marker")
	}
	_, err = c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(marker)})
	if status := responseStatus(err); status != http.StatusMethodNotAllowed {
		t.Fatalf("HEAD of a delete marker: status %d (%v), want 405", status, err)
	}
	// The old versions are still there, readable by version.
	if got, err := getVersion(t, c, "vbk", "k", v1); err != nil || !bytes.Equal(got, one) {
		t.Fatalf("GET v1 after the delete: %v", err)
	}

	// Removing the marker brings v2 back.
	rm, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(marker)})
	if err != nil || !aws.ToBool(rm.DeleteMarker) || aws.ToString(rm.VersionId) != marker {
		t.Fatalf("DELETE ?versionId=marker = %+v, %v", rm, err)
	}
	if got, err := getVersion(t, c, "vbk", "k", ""); err != nil || !bytes.Equal(got, two) {
		t.Fatalf("GET after removing the marker: %v", err)
	}
	// Removing v2 for good makes v1 current.
	if _, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	if got, err := getVersion(t, c, "vbk", "k", ""); err != nil || !bytes.Equal(got, one) {
		t.Fatalf("GET after removing v2: %v", err)
	}
	_, err = c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String("bad")})
	wantCode(t, err, "InvalidArgument")

	// Copy from a version, with the source version in the answer.
	cp, err := c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("vbk"), Key: aws.String("copy"),
		CopySource: aws.String("vbk/k?versionId=" + v1)})
	if err != nil || aws.ToString(cp.CopySourceVersionId) != v1 || aws.ToString(cp.VersionId) == "" {
		t.Fatalf("copy from v1 = %+v, %v", cp, err)
	}
	_, err = c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("vbk"), Key: aws.String("copy"),
		CopySource: aws.String("vbk/k?versionId=01G65Z755AFWAKHE12NY0CQ9FH")})
	wantCode(t, err, "NoSuchVersion")
}

func responseStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// listAllVersions pages through ListObjectVersions two entries at a time.
func listAllVersions(t testing.TB, c *s3.Client, bucket, prefix string) ([]types.ObjectVersion, []types.DeleteMarkerEntry) {
	t.Helper()
	var versions []types.ObjectVersion
	var markers []types.DeleteMarkerEntry
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(2)}
	for range 10000 {
		out, err := c.ListObjectVersions(ctxT(t), in)
		if err != nil {
			t.Fatalf("list object versions: %v", err)
		}
		versions = append(versions, out.Versions...)
		markers = append(markers, out.DeleteMarkers...)
		if !aws.ToBool(out.IsTruncated) {
			return versions, markers
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	t.Fatal("the listing never ends")
	return nil, nil
}

func TestListObjectVersions(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "vbk")
	unversioned := putVersion(t, c, "vbk", "a/old", content(1, 10))
	if unversioned != "" {
		t.Fatalf("a PUT to an unversioned bucket answered version %q", unversioned)
	}
	enableVersioning(t, c, "vbk", types.BucketVersioningStatusEnabled)
	var ids []string
	for i := range 3 {
		ids = append(ids, putVersion(t, c, "vbk", "a/k", content(i, 100+i)))
	}
	bv := putVersion(t, c, "vbk", "b", content(9, 9))
	if _, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	versions, markers := listAllVersions(t, c, "vbk", "")
	var got []string
	for _, v := range versions {
		got = append(got, fmt.Sprintf("%s@%s/%v/%d", aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest), aws.ToInt64(v.Size)))
	}
	want := []string{"a/k@" + ids[2] + "/true/102", "a/k@" + ids[1] + "/false/101", "a/k@" + ids[0] + "/false/100",
		"a/old@null/true/10", "b@" + bv + "/false/9"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("versions:\n got %v\nwant %v", got, want)
	}
	if len(markers) != 1 || aws.ToString(markers[0].Key) != "b" || !aws.ToBool(markers[0].IsLatest) {
		t.Fatalf("delete markers = %+v, want b's, latest", markers)
	}

	// A delimiter rolls keys up; the markers page through them.
	out, err := c.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{Bucket: aws.String("vbk"), Delimiter: aws.String("/")})
	if err != nil || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "a/" || len(out.Versions) != 1 || len(out.DeleteMarkers) != 1 {
		t.Fatalf("delimited listing = %d prefixes, %d versions, %d markers, %v", len(out.CommonPrefixes), len(out.Versions), len(out.DeleteMarkers), err)
	}
	_, err = c.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{Bucket: aws.String("vbk"), VersionIdMarker: aws.String(ids[0])})
	wantCode(t, err, "InvalidArgument")
	_, err = c.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{Bucket: aws.String("missing")})
	wantCode(t, err, "NoSuchBucket")
}

func TestSuspendedVersioningNullVersion(t *testing.T) {
	_, c := versionedGateway(t)
	kept := putVersion(t, c, "vbk", "k", content(1, 10))
	enableVersioning(t, c, "vbk", types.BucketVersioningStatusSuspended)
	// S3 does not name the null version a suspended PUT makes.
	if v := putVersion(t, c, "vbk", "k", content(2, 20)); v != "" {
		t.Fatalf("a suspended PUT answered version %q, want none", v)
	}
	if v := putVersion(t, c, "vbk", "k", content(3, 30)); v != "" {
		t.Fatalf("a suspended PUT answered version %q, want none", v)
	}
	versions, _ := listAllVersions(t, c, "vbk", "")
	if len(versions) != 2 || aws.ToString(versions[0].VersionId) != "null" || aws.ToInt64(versions[0].Size) != 30 || aws.ToString(versions[1].VersionId) != kept {
		t.Fatalf("versions = %+v: want the last null version and the kept one", versions)
	}
	if got, err := getVersion(t, c, "vbk", "k", "null"); err != nil || !bytes.Equal(got, content(3, 30)) {
		t.Fatalf("GET ?versionId=null: %v", err)
	}
}

// TestVersionsConcurrentPutsOneKey: 16 concurrent PUTs to one key of an
// Enabled bucket make 16 versions, each readable byte for byte.
func TestVersionsConcurrentPutsOneKey(t *testing.T) {
	_, c := versionedGateway(t)
	const writers = 16
	ids := make([]string, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("vbk"), Key: aws.String("same"),
				Body: bytes.NewReader(content(100+i, 1000+i))})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = aws.ToString(out.VersionId)
		}()
	}
	wg.Wait()
	versions, _ := listAllVersions(t, c, "vbk", "")
	if len(versions) != writers {
		t.Fatalf("%d versions listed, want %d", len(versions), writers)
	}
	for i, id := range ids {
		got, err := getVersion(t, c, "vbk", "same", id)
		if err != nil || sha256Hex(got) != sha256Hex(content(100+i, 1000+i)) {
			t.Fatalf("version %d (%s): %v", i, id, err)
		}
	}
}

// TestRansomwareRecoveryLocal: every object of a versioned bucket is
// overwritten with garbage and half of them deleted; every original comes
// back through the S3 API alone, SHA-256 for SHA-256, also after a restart
// and a run of the store's collector.
func TestRansomwareRecoveryLocal(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "photos")
	enableVersioning(t, c, "photos", types.BucketVersioningStatusEnabled)
	const n = 50
	originals := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("dir%d/photo%02d.jpg", i%3, i)
		body := content(i, 500+37*i)
		putVersion(t, c, "photos", key, body)
		originals[key] = sha256Hex(body)
	}
	keys := make([]string, 0, n)
	for k := range originals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		putVersion(t, c, "photos", k, []byte(fmt.Sprintf("ENCRYPTED %d, pay up", i)))
		if i%2 == 0 {
			if _, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String(k)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The uploads of every version are done: only the index keeps the old
	// blobs now, and a collection must not take them.
	jobs, err := g.node.Jobs(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := g.node.JobDone(ctxT(t), j.ID); err != nil {
			t.Fatal(err)
		}
	}
	g.restart()
	c = g.client()
	collect(t, g)

	// Recovery: the oldest version of each key is the original; copy it
	// over the current one, as a user would.
	versions, markers := listAllVersions(t, c, "photos", "")
	if len(markers) != n/2 {
		t.Fatalf("%d delete markers, want %d", len(markers), n/2)
	}
	oldest := map[string]string{}
	for _, v := range versions {
		oldest[aws.ToString(v.Key)] = aws.ToString(v.VersionId) // newest first: the last one wins
	}
	for _, k := range keys {
		_, err := c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String(k),
			CopySource: aws.String("photos/" + k + "?versionId=" + oldest[k])})
		if err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
		got, err := getVersion(t, c, "photos", k, "")
		if err != nil || sha256Hex(got) != originals[k] {
			t.Fatalf("%s after recovery: SHA-256 %s, %v; want %s", k, sha256Hex(got), err, originals[k])
		}
	}
}

// collect runs the store's collector with the journal's mark.
func collect(t testing.TB, g *testGateway) {
	t.Helper()
	ctx := ctxT(t)
	if err := g.store.SyncStaged(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := g.store.Collect(ctx, func(ctx context.Context, mark func(store.Digest)) error {
		return g.node.MarkReferenced(ctx, func(blob string) {
			if d, err := store.ParseDigest(blob); err == nil {
				mark(d)
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("collector: %+v", st)
}

func TestDeleteObjectsVersions(t *testing.T) {
	_, c := versionedGateway(t)
	v1 := putVersion(t, c, "vbk", "a", content(1, 10))
	putVersion(t, c, "vbk", "b", content(2, 10))
	out, err := c.DeleteObjects(ctxT(t), &s3.DeleteObjectsInput{Bucket: aws.String("vbk"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a"), VersionId: aws.String(v1)}, {Key: aws.String("b")},
		{Key: aws.String("c"), VersionId: aws.String("bad")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 2 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "InvalidArgument" {
		t.Fatalf("deleted %+v, errors %+v", out.Deleted, out.Errors)
	}
	for _, d := range out.Deleted {
		switch aws.ToString(d.Key) {
		case "a":
			if aws.ToString(d.VersionId) != v1 || aws.ToBool(d.DeleteMarker) {
				t.Fatalf("a: %+v, want version %s removed", d, v1)
			}
		case "b":
			if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) == "" {
				t.Fatalf("b: %+v, want a delete marker", d)
			}
		}
	}
	versions, markers := listAllVersions(t, c, "vbk", "")
	if len(versions) != 1 || aws.ToString(versions[0].Key) != "b" || len(markers) != 1 {
		t.Fatalf("after DeleteObjects: versions %+v, markers %+v", versions, markers)
	}
	// The bucket is not empty while versions remain.
	_, err = c.DeleteBucket(ctxT(t), &s3.DeleteBucketInput{Bucket: aws.String("vbk")})
	wantCode(t, err, "BucketNotEmpty")
}

// TestVersionNewBuckets: with the option, CreateBucket makes versioned
// buckets; an overwrite keeps the earlier version.
func TestVersionNewBuckets(t *testing.T) {
	g := newGateway(t, withConfig(func(c *Config) { c.VersionNewBuckets = true }))
	c := g.client()
	mustBucket(t, c, "fresh")
	out, err := c.GetBucketVersioning(ctxT(t), &s3.GetBucketVersioningInput{Bucket: aws.String("fresh")})
	if err != nil || out.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("a new bucket's versioning = %q, %v; want Enabled", out.Status, err)
	}
	v1 := putVersion(t, c, "fresh", "k", []byte("one"))
	putVersion(t, c, "fresh", "k", []byte("two"))
	if got, err := getVersion(t, c, "fresh", "k", v1); err != nil || string(got) != "one" {
		t.Fatalf("the first version: %q, %v", got, err)
	}
}

// TestVersionTagging: tags of a version, current or not, change in place:
// no new version, and each version keeps its own tags.
func TestVersionTagging(t *testing.T) {
	_, c := versionedGateway(t)
	v1 := putVersion(t, c, "vbk", "k", []byte("one"))
	v2 := putVersion(t, c, "vbk", "k", []byte("two"))
	tag := func(version, value string) {
		t.Helper()
		in := &s3.PutObjectTaggingInput{Bucket: aws.String("vbk"), Key: aws.String("k"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("state"), Value: aws.String(value)}}}}
		if version != "" {
			in.VersionId = aws.String(version)
		}
		if _, err := c.PutObjectTagging(ctxT(t), in); err != nil {
			t.Fatalf("tag %q: %v", version, err)
		}
	}
	tag(v1, "old")
	tag("", "new")
	for version, want := range map[string]string{v1: "old", v2: "new"} {
		out, err := c.GetObjectTagging(ctxT(t), &s3.GetObjectTaggingInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(version)})
		if err != nil || len(out.TagSet) != 1 || aws.ToString(out.TagSet[0].Value) != want {
			t.Fatalf("tags of %s: %+v, %v; want state=%s", version, out, err, want)
		}
	}
	if versions, _ := listAllVersions(t, c, "vbk", ""); len(versions) != 2 {
		t.Fatalf("%d versions after tagging, want 2", len(versions))
	}
	if _, err := c.DeleteObjectTagging(ctxT(t), &s3.DeleteObjectTaggingInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObjectTagging(ctxT(t), &s3.GetObjectTaggingInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(v1)})
	if err != nil || len(out.TagSet) != 0 {
		t.Fatalf("tags of v1 after DeleteObjectTagging: %+v, %v", out, err)
	}
	if got, err := getVersion(t, c, "vbk", "k", v1); err != nil || string(got) != "one" {
		t.Fatalf("v1 after tagging: %q, %v", got, err)
	}
}
