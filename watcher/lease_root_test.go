//go:build root

package watcher

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// leaseProbeEnv names the file TestLeaseProbeChild probes.
const leaseProbeEnv = "IPAS_TEST_LEASE_PROBE"

// TestLeaseProbeNeedsCapLease: the writer probe on a file of another user
// (root copied it into the share, or another account wrote it) while its
// writer holds it open. The daemon runs as its own user (the Ansible unit's
// User=ipas): without CAP_LEASE the kernel refuses it the lease (EACCES) and
// the probe cannot tell that the file is still being written; with CAP_LEASE,
// which the unit grants, it can. The probe runs in a child process switched to
// an unprivileged user by setpriv, with and without the capability.
func TestLeaseProbeNeedsCapLease(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	// A directory every user can enter, holding a copy of this test binary
	// (go test's build directory is root's only).
	dir, err := os.MkdirTemp("", "lease-probe-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "watcher.test")
	if err := copyExecutable(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "half-written.bin")
	f, err := os.Create(path) // root's, 0644: readable by the daemon's user
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		caps []string
		want string
	}{
		{"without CAP_LEASE", nil, "open-for-writing=false"},
		{"with CAP_LEASE", []string{"--inh-caps=+lease", "--ambient-caps=+lease"}, "open-for-writing=true"},
	} {
		args := append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, c.caps...)
		cmd := exec.Command(setpriv, append(args, bin, "-test.run=^TestLeaseProbeChild$", "-test.v")...)
		cmd.Env = append(os.Environ(), leaseProbeEnv+"="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("%s: the probe of a file open for writing says\n%s\nwant %s", c.name, out, c.want)
		}
	}
}

// TestLeaseProbeChild is TestLeaseProbeNeedsCapLease's child: it probes the
// file named by leaseProbeEnv and prints the answer.
func TestLeaseProbeChild(t *testing.T) {
	path := os.Getenv(leaseProbeEnv)
	if path == "" {
		t.Skip("run by TestLeaseProbeNeedsCapLease")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Printf("uid=%d open-for-writing=%v\n", os.Getuid(), openForWriting(f))
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
