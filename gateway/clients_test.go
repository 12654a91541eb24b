//go:build clients

package gateway

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
)

// Real client processes against the real server: go test -tags clients ./gateway/
// Each client found on PATH is driven through the operations it uses for a
// backup: make a bucket, upload, list, download, compare, delete.

const clientTimeout = 2 * time.Minute

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func clientFiles(t *testing.T) (dir string, files map[string][]byte) {
	dir = t.TempDir()
	files = map[string][]byte{"small.txt": []byte("hello\n"), "sub/mid.bin": content(1, 3<<20+5), "empty": nil}
	for name, b := range files {
		p := filepath.Join(dir, "src", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

func compareTree(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes read back (%v), want %d", name, len(got), err, len(want))
		}
	}
}

func awsEnv(g *testGateway) []string {
	env := []string{"AWS_ACCESS_KEY_ID=" + testAccessKey, "AWS_SECRET_ACCESS_KEY=" + testSecret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	if g.tls {
		env = append(env, "AWS_CA_BUNDLE="+g.caFile)
	}
	return env
}

func testAWSCLI(t *testing.T, bin string) {
	for _, tls := range []bool{false, true} {
		name := "http"
		var opts []gwOption
		if tls {
			name, opts = "https", []gwOption{withTLS()}
		}
		t.Run(name, func(t *testing.T) {
			g := newGateway(t, opts...)
			env := awsEnv(g)
			dir, files := clientFiles(t)
			ep := []string{"--endpoint-url", g.URL}
			run(t, env, bin, append([]string{"s3", "mb", "s3://cli"}, ep...)...)
			run(t, env, bin, append([]string{"s3", "cp", "--recursive", filepath.Join(dir, "src"), "s3://cli/backup/"}, ep...)...)
			ls := run(t, env, bin, append([]string{"s3", "ls", "--recursive", "s3://cli/"}, ep...)...)
			for n := range files {
				if !strings.Contains(ls, "backup/"+n) {
					t.Fatalf("ls lacks %s:\n%s", n, ls)
				}
			}
			run(t, env, bin, append([]string{"s3", "cp", "--recursive", "s3://cli/backup/", filepath.Join(dir, "dst")}, ep...)...)
			compareTree(t, filepath.Join(dir, "dst"), files)
			run(t, env, bin, append([]string{"s3api", "put-object", "--bucket", "cli", "--key", "one", "--body",
				filepath.Join(dir, "src", "sub/mid.bin"), "--metadata", "owner=alice"}, ep...)...)
			run(t, env, bin, append([]string{"s3api", "get-object", "--bucket", "cli", "--key", "one", "--range", "bytes=0-99",
				filepath.Join(dir, "range.out")}, ep...)...)
			if b, _ := os.ReadFile(filepath.Join(dir, "range.out")); !bytes.Equal(b, files["sub/mid.bin"][:100]) {
				t.Fatalf("ranged get-object: %d bytes", len(b))
			}
			head := run(t, env, bin, append([]string{"s3api", "head-object", "--bucket", "cli", "--key", "one"}, ep...)...)
			if !strings.Contains(head, "alice") {
				t.Fatalf("head-object lacks metadata: %s", head)
			}
			run(t, env, bin, append([]string{"s3", "rm", "--recursive", "s3://cli/"}, ep...)...)
			run(t, env, bin, append([]string{"s3", "rb", "s3://cli"}, ep...)...)
		})
	}
}

func TestClientAWSCLIv1(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		testutil.MissingTool(t, "aws", "apt-get install -y awscli")
	}
	testAWSCLI(t, bin)
}

func TestClientAWSCLIv2(t *testing.T) {
	if _, err := os.Stat("/usr/bin/aws"); err != nil {
		testutil.MissingTool(t, "/usr/bin/aws", "apt-get install -y awscli")
	}
	testAWSCLI(t, "/usr/bin/aws")
}

func TestClientRclone(t *testing.T) {
	if _, err := exec.LookPath("rclone"); err != nil {
		testutil.MissingTool(t, "rclone", "apt-get install -y rclone")
	}
	g := newGateway(t)
	dir, files := clientFiles(t)
	conf := filepath.Join(dir, "rclone.conf")
	os.WriteFile(conf, []byte("[gw]\ntype = s3\nprovider = Other\nenv_auth = false\naccess_key_id = "+testAccessKey+
		"\nsecret_access_key = "+testSecret+"\nendpoint = "+g.URL+"\nforce_path_style = true\nregion = us-east-1\n"), 0o600)
	rc := func(args ...string) string {
		return run(t, nil, "env", append([]string{"-u", "AWS_CA_BUNDLE", "rclone", "--config", conf}, args...)...)
	}
	rc("mkdir", "gw:rcl")
	rc("copy", filepath.Join(dir, "src"), "gw:rcl/backup")
	rc("check", filepath.Join(dir, "src"), "gw:rcl/backup")
	rc("copy", "gw:rcl/backup", filepath.Join(dir, "dst"))
	compareTree(t, filepath.Join(dir, "dst"), files)
	rc("purge", "gw:rcl")
}

func TestClientS3cmd(t *testing.T) {
	t.Run("sigv4", func(t *testing.T) { testS3cmd(t, false) })
	t.Run("sigv2", func(t *testing.T) { testS3cmd(t, true) })
}

func testS3cmd(t *testing.T, sigV2 bool) {
	if _, err := exec.LookPath("s3cmd"); err != nil {
		testutil.MissingTool(t, "s3cmd", "apt-get install -y s3cmd")
	}
	g := newGateway(t)
	dir, files := clientFiles(t)
	host := strings.TrimPrefix(g.URL, "http://")
	conf := filepath.Join(dir, "s3cfg")
	os.WriteFile(conf, []byte("[default]\naccess_key = "+testAccessKey+"\nsecret_key = "+testSecret+"\nhost_base = "+host+
		"\nhost_bucket = "+host+"\nuse_https = False\nsignature_v2 = "+map[bool]string{false: "False", true: "True"}[sigV2]+
		"\nbucket_location = us-east-1\n"), 0o600)
	s3 := func(args ...string) string { return run(t, nil, "s3cmd", append([]string{"-c", conf}, args...)...) }
	s3("mb", "s3://s3c")
	s3("put", "--recursive", filepath.Join(dir, "src")+"/", "s3://s3c/backup/")
	s3("ls", "--recursive", "s3://s3c/")
	if info := s3("info", "s3://s3c/backup/small.txt"); !strings.Contains(info, "FULL_CONTROL") {
		t.Fatalf("s3cmd info: %s", info)
	}
	os.MkdirAll(filepath.Join(dir, "dst"), 0o755)
	s3("get", "--recursive", "s3://s3c/backup/", filepath.Join(dir, "dst")+"/")
	compareTree(t, filepath.Join(dir, "dst"), files)
	s3("del", "--recursive", "--force", "s3://s3c/")
	s3("rb", "s3://s3c")
}
