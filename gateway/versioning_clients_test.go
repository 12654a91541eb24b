//go:build clients

package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
