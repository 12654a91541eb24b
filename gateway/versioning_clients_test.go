//go:build clients

package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
)

// TestClientAWSCLIRansomwareRecovery: with the real aws CLI only, a
// versioned bucket's files are overwritten with garbage and half deleted,
// then every original is found with list-object-versions, fetched with
// get-object --version-id and compared by SHA-256.
func TestClientAWSCLIRansomwareRecovery(t *testing.T) {
	bin := "/usr/bin/aws" // aws-cli v2, which signs as SDKs since 2025 do
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("aws"); err != nil {
			testutil.MissingTool(t, "aws", "apt-get install -y awscli")
		}
	}
	g := newGateway(t)
	env := awsEnv(g)
	ep := []string{"--endpoint-url", g.URL}
	aws := func(args ...string) string { return run(t, env, bin, append(args, ep...)...) }
	dir := t.TempDir()
	const n = 12
	originals := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("doc%02d.txt", i)
		b := content(200+i, 1000+100*i)
		originals["docs/"+name] = sha256Hex(b)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	aws("s3", "mb", "s3://vault")
	aws("s3api", "put-bucket-versioning", "--bucket", "vault", "--versioning-configuration", "Status=Enabled")
	if out := aws("s3api", "get-bucket-versioning", "--bucket", "vault"); !json.Valid([]byte(out)) || !containsJSON(out, "Status", "Enabled") {
		t.Fatalf("get-bucket-versioning: %s", out)
	}
	aws("s3", "cp", "--recursive", dir, "s3://vault/docs/")

	// The attack: every file encrypted and synced, half of them deleted.
	for i := range n {
		name := fmt.Sprintf("doc%02d.txt", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte("ENCRYPTED "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	aws("s3", "cp", "--recursive", dir, "s3://vault/docs/")
	for i := 0; i < n; i += 2 {
		aws("s3api", "delete-object", "--bucket", "vault", "--key", fmt.Sprintf("docs/doc%02d.txt", i))
	}

	var listing struct {
		Versions []struct {
			Key, VersionId string
			IsLatest       bool
		}
		DeleteMarkers []struct{ Key, VersionId string }
	}
	if err := json.Unmarshal([]byte(aws("s3api", "list-object-versions", "--bucket", "vault")), &listing); err != nil {
		t.Fatal(err)
	}
	if len(listing.Versions) != 2*n || len(listing.DeleteMarkers) != n/2 {
		t.Fatalf("list-object-versions: %d versions, %d delete markers; want %d, %d", len(listing.Versions), len(listing.DeleteMarkers), 2*n, n/2)
	}
	oldest := map[string]string{}
	for _, v := range listing.Versions { // newest first: the last one of a key is its first version
		oldest[v.Key] = v.VersionId
	}
	for key, want := range originals {
		out := filepath.Join(t.TempDir(), "restored")
		aws("s3api", "get-object", "--bucket", "vault", "--key", key, "--version-id", oldest[key], out)
		b, err := os.ReadFile(out)
		if err != nil || sha256Hex(b) != want {
			t.Fatalf("%s version %s: SHA-256 %s, %v; want %s", key, oldest[key], sha256Hex(b), err, want)
		}
	}
}

// containsJSON reports whether the JSON object doc has field = value.
func containsJSON(doc, field, value string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(doc), &m) == nil && m[field] == value
}

// TestClientResticVersionedRepository: restic backs up into a versioned
// bucket; an attacker holding the key deletes every file of the repository;
// removing the delete markers (S3 API alone) brings the repository back, and
// restic restores the original files byte for byte.
func TestClientResticVersionedRepository(t *testing.T) {
	if _, err := exec.LookPath("restic"); err != nil {
		testutil.MissingTool(t, "restic", "apt-get install -y restic")
	}
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "restic")
	enableVersioning(t, c, "restic", "Enabled")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	files := map[string][]byte{"a.txt": []byte("alpha\n"), "sub/b.bin": content(7, 3<<20+11)}
	for name, b := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(awsEnv(g), "RESTIC_REPOSITORY=s3:"+g.URL+"/restic/repo", "RESTIC_PASSWORD=correct horse",
		"RESTIC_CACHE_DIR="+filepath.Join(dir, "cache"))
	run(t, env, "restic", "init")
	run(t, env, "restic", "backup", "--host", "pi", src)

	// The attack: every object of the repository deleted with the key.
	var keys []string
	for p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("restic")}); p.HasMorePages(); {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	for _, k := range keys {
		if _, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("restic"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	snapshots := exec.Command("restic", "snapshots")
	snapshots.Env = append(os.Environ(), env...)
	if out, err := snapshots.CombinedOutput(); err == nil {
		t.Fatalf("restic still reads the deleted repository:\n%s", out)
	}

	// Recovery: remove the delete markers the attack added (restic's own
	// deleted lock files keep theirs).
	deleted := map[string]bool{}
	for _, k := range keys {
		deleted[k] = true
	}
	_, markers := listAllVersions(t, c, "restic", "")
	removed := 0
	for _, m := range markers {
		if !deleted[aws.ToString(m.Key)] || !aws.ToBool(m.IsLatest) {
			continue
		}
		if _, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("restic"), Key: m.Key, VersionId: m.VersionId}); err != nil {
			t.Fatal(err)
		}
		removed++
	}
	if removed != len(keys) {
		t.Fatalf("%d delete markers removed for %d deleted objects", removed, len(keys))
	}
	run(t, env, "restic", "check", "--read-data")
	run(t, env, "restic", "restore", "latest", "--target", filepath.Join(dir, "dst"))
	compareTree(t, filepath.Join(dir, "dst", src), files)
}
