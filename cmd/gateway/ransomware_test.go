package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
)

// ransomObjects is how many objects the ransomware test writes; one of them
// is large enough for a multipart upload to the remote.
const ransomObjects = 30

// TestRansomware_RestoreFromRemote: a versioned bucket of 30 objects is
// replicated; "ransomware" then overwrites every object with garbage through
// the aws CLI (aws s3 sync) and deletes half of them, and that is
// replicated too. The Pi's data directory is wiped and `gateway restore`
// rebuilds it from the remote alone; through the S3 API of the restored
// daemon, ListObjectVersions shows every original version, noncurrent, and
// GET ?versionId of each returns the original bytes (SHA-256), the garbage
// versions and the delete markers are there as they were. Once with a remote
// bucket without versioning (the versions directory), once with versioning
// Enabled (the remote's own versions).
func TestRansomware_RestoreFromRemote(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		testutil.MissingTool(t, "aws", "pip install awscli")
	}
	for _, remoteVersioned := range []bool{false, true} {
		name := "unversioned remote"
		if remoteVersioned {
			name = "versioned remote"
		}
		t.Run(name, func(t *testing.T) {
			vgw := testutil.StartVersityGWVersioning(t, restoreBucket)
			if remoteVersioned {
				vgw.EnableVersioning(t, restoreBucket)
			}
			s := newRestoreSetup(t, vgw.Endpoint, vgw)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			dataDir := filepath.Join(t.TempDir(), "data")
			p := s.serve(t, dataDir)
			c := s3Client(p.endpoint, restoreAK, restoreSK)

			originals := writeOriginals(t, ctx, c)
			s.waitReplicated(t, p)
			deleted := ransomware(t, ctx, awsBin, p.endpoint, originals)
			s.waitReplicated(t, p)
			before := listVersions(t, ctx, c)
			s.stop(t, p)
			if err := os.RemoveAll(dataDir); err != nil {
				t.Fatal(err)
			}

			run := s.restore(t, dataDir)
			if run.code != 0 || !strings.Contains(run.stderr, "object list: remote index") {
				t.Fatalf("restore: %s", run)
			}
			p = s.serve(t, dataDir)
			c = s3Client(p.endpoint, restoreAK, restoreSK)
			after := listVersions(t, ctx, c)
			if !equalVersionLists(before, after) {
				t.Errorf("ListObjectVersions after the restore differs:\nbefore %v\nafter  %v", before, after)
			}
			recovered := 0
			for key, want := range originals {
				got := originalVersion(t, ctx, c, after, key)
				if got.sha != want {
					t.Errorf("%s: the oldest version has sha256 %s, want the original %s", key, got.sha, want)
					continue
				}
				if got.latest {
					t.Errorf("%s: the original is the latest version: the ransomware's overwrite was lost", key)
				}
				recovered++
			}
			markers := 0
			for _, v := range after {
				if v.marker && v.latest {
					markers++
					if !deleted[v.key] {
						t.Errorf("%s: a delete marker on a key the ransomware did not delete", v.key)
					}
				}
			}
			if markers != len(deleted) {
				t.Errorf("%d keys deleted after the restore, want %d", markers, len(deleted))
			}
			// The real aws CLI sees the same: the original of one key.
			checkWithCLI(t, awsBin, p.endpoint, after, originals)
			t.Logf("%d originals recovered byte-identical after the restore (%d versions, %d delete markers)",
				recovered, len(after), markers)

			// The restored Pi carries on: a new version makes the restored
			// current one noncurrent; a second wipe and restore still
			// brings every version back.
			fixed := []byte("the photo, recovered and saved again")
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("album/01.jpg"), Body: bytes.NewReader(fixed)}); err != nil {
				t.Fatal(err)
			}
			s.waitReplicated(t, p)
			before = listVersions(t, ctx, c)
			s.stop(t, p)
			if err := os.RemoveAll(dataDir); err != nil {
				t.Fatal(err)
			}
			if run := s.restore(t, dataDir); run.code != 0 {
				t.Fatalf("second restore: %s", run)
			}
			p = s.serve(t, dataDir)
			if again := listVersions(t, ctx, s3Client(p.endpoint, restoreAK, restoreSK)); !equalVersionLists(before, again) {
				t.Errorf("ListObjectVersions after a second restore differs:\nbefore %v\nafter  %v", before, again)
			}
			s.stop(t, p)

			// Without the remote index: the versions the remote keeps are
			// found by listing; the delete markers are not on the remote.
			noIndex := filepath.Join(t.TempDir(), "noindex")
			run = s.restore(t, noIndex, "--no-index")
			if run.code != 0 || !strings.Contains(run.stderr, "versions kept on the remote") {
				t.Fatalf("restore --no-index: %s", run)
			}
			p = s.serve(t, noIndex)
			defer s.stop(t, p)
			found := listVersions(t, ctx, s3Client(p.endpoint, restoreAK, restoreSK))
			for key, want := range originals {
				ok := false
				for _, v := range found {
					ok = ok || v.key == key && v.sha == want && !v.latest
				}
				if !ok {
					t.Errorf("without the index: %s has no noncurrent version with the original bytes", key)
				}
			}
			t.Logf("without the index: %d versions", len(found))
		})
	}
}

// writeOriginals creates the versioned bucket and puts the originals; it
// returns each key's SHA-256.
func writeOriginals(t *testing.T, ctx context.Context, c *s3.Client) map[string]string {
	t.Helper()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	enableVersioning(t, ctx, c, "photos")
	out := map[string]string{}
	for i := range ransomObjects {
		key := fmt.Sprintf("album/%02d.jpg", i)
		size := 3000 + 977*i
		if i == 7 {
			size = 7 << 20 // over multipart_threshold: a multipart upload to the remote
		}
		data := testutil.Content(100+i, size)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
		out[key] = sha256Of(data)
	}
	return out
}

// ransomware overwrites every object with garbage through `aws s3 sync`
// and deletes every other one with `aws s3 rm`; it returns the deleted keys.
func ransomware(t *testing.T, ctx context.Context, awsBin, endpoint string, originals map[string]string) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	for key := range originals {
		path := filepath.Join(dir, filepath.FromSlash(key))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, append([]byte("ENCRYPTED "), testutil.Content(len(key)*7, 1500)...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runAWS(t, ctx, awsBin, endpoint, "s3", "sync", "--no-progress", dir, "s3://photos/")
	deleted := map[string]bool{}
	for i := 0; i < ransomObjects; i += 2 {
		key := fmt.Sprintf("album/%02d.jpg", i)
		runAWS(t, ctx, awsBin, endpoint, "s3", "rm", "s3://photos/"+key)
		deleted[key] = true
	}
	return deleted
}

func runAWS(t *testing.T, ctx context.Context, awsBin, endpoint string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, awsBin, append([]string{"--endpoint-url", endpoint}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+restoreAK, "AWS_SECRET_ACCESS_KEY="+restoreSK,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// listedVersion is one entry of ListObjectVersions, with its bytes' SHA-256.
type listedVersion struct {
	key, id, sha   string
	marker, latest bool
}

// listVersions lists every version of the bucket and reads each one's bytes
// with GET ?versionId.
func listVersions(t *testing.T, ctx context.Context, c *s3.Client) []listedVersion {
	t.Helper()
	var out []listedVersion
	in := &s3.ListObjectVersionsInput{Bucket: aws.String("photos"), MaxKeys: aws.Int32(17)}
	for {
		page, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: v.Key, VersionId: v.VersionId})
			if err != nil {
				t.Fatalf("get %s version %s: %v", aws.ToString(v.Key), aws.ToString(v.VersionId), err)
			}
			h := sha256.New()
			_, err = io.Copy(h, obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, listedVersion{key: aws.ToString(v.Key), id: aws.ToString(v.VersionId), sha: hex.EncodeToString(h.Sum(nil)), latest: aws.ToBool(v.IsLatest)})
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, listedVersion{key: aws.ToString(m.Key), id: aws.ToString(m.VersionId), marker: true, latest: aws.ToBool(m.IsLatest)})
		}
		if !aws.ToBool(page.IsTruncated) {
			return out
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

func equalVersionLists(a, b []listedVersion) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[listedVersion]int{}
	for _, v := range a {
		seen[v]++
	}
	for _, v := range b {
		if seen[v] == 0 {
			return false
		}
		seen[v]--
	}
	return true
}

// originalVersion is key's oldest version.
func originalVersion(t *testing.T, ctx context.Context, c *s3.Client, vs []listedVersion, key string) listedVersion {
	t.Helper()
	var ofKey []listedVersion
	for _, v := range vs {
		if v.key == key && !v.marker {
			ofKey = append(ofKey, v)
		}
	}
	if len(ofKey) != 2 {
		t.Errorf("%s has %d versions with bytes, want 2 (the original and the garbage)", key, len(ofKey))
		return listedVersion{}
	}
	// ListObjectVersions lists a key's versions newest first.
	return ofKey[len(ofKey)-1]
}

// checkWithCLI reads one original back with aws s3api, as a user would.
func checkWithCLI(t *testing.T, awsBin, endpoint string, vs []listedVersion, originals map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const key = "album/07.jpg" // the multipart one
	raw := runAWS(t, ctx, awsBin, endpoint, "s3api", "list-object-versions", "--bucket", "photos", "--prefix", key)
	var out struct {
		Versions []struct {
			VersionId string
			IsLatest  bool
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Versions) != 2 {
		t.Fatalf("aws s3api list-object-versions: %v\n%s", err, raw)
	}
	path := filepath.Join(t.TempDir(), "original")
	runAWS(t, ctx, awsBin, endpoint, "s3api", "get-object", "--bucket", "photos", "--key", key,
		"--version-id", out.Versions[1].VersionId, path)
	b, err := os.ReadFile(path)
	if err != nil || sha256Of(b) != originals[key] {
		t.Errorf("aws s3api get-object --version-id %s: sha256 %s (%v), want the original %s", out.Versions[1].VersionId, sha256Of(b), err, originals[key])
	}
}

func sha256Of(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
