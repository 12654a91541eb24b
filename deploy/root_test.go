//go:build ansible

package deploy_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The Debian root the role is applied to: what a Raspberry Pi OS Lite image has that
// matters here (systemd, python3 for Ansible, curl), plus Samba and ufw so that those
// parts of the role run for real.
const (
	rootSuite    = "bookworm"
	rootMirror   = "http://deb.debian.org/debian"
	rootVariant  = "minbase"
	rootPackages = "python3,systemd,systemd-sysv,dbus,ca-certificates,curl,procps,iproute2,samba,ufw"
	// rootCacheDir keeps debootstrapped roots between runs, one per package list.
	rootCacheDir = "/var/cache/ipas-test"
)

// haltSignal is SIGRTMIN+3 as glibc and systemd count it: a clean halt of a
// systemd that runs as PID 1 of a container.
const haltSignal = syscall.Signal(37)

// cachedRoot returns a debootstrapped root, building it on the first call (about two
// minutes). The cache is keyed by everything that goes into it and never modified.
func cachedRoot(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256([]byte(strings.Join([]string{rootSuite, rootMirror, rootVariant, rootPackages}, "\n")))
	dir := filepath.Join(rootCacheDir, rootSuite+"-root-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "usr/bin/python3")); err == nil {
		return dir
	}
	if err := os.MkdirAll(rootCacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := dir + ".partial"
	os.RemoveAll(tmp)
	r := run(t, rootCacheDir, nil, "debootstrap", "--variant="+rootVariant, "--include="+rootPackages, rootSuite, tmp, rootMirror)
	if r.err != nil {
		os.RemoveAll(tmp)
		t.Fatalf("debootstrap: %v\n%s", r.err, r.out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("debootstrap %s: %s", rootSuite, r.took.Round(time.Second))
	return dir
}

// freshRoot copies the cached root to a directory of its own for one test.
func freshRoot(t *testing.T, work string) string {
	t.Helper()
	root := filepath.Join(work, "root")
	r := run(t, work, nil, "cp", "-a", cachedRoot(t), root)
	if r.err != nil {
		t.Fatalf("copy the root: %v\n%s", r.err, r.out)
	}
	t.Logf("copy of the root: %s", r.took.Round(time.Millisecond))
	// nmbd waits for a LAN interface that the test's network namespace has not got,
	// and smbd is ordered after it.
	if err := os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/system/nmbd.service")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertNoMountsUnder(t, root) })
	return root
}

// assertNoMountsUnder fails the test if something is still mounted under dir in this
// mount namespace (every mount of the tests lives in a namespace of its own).
func assertNoMountsUnder(t *testing.T, dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir) {
			t.Errorf("left mounted: %s", fields[4])
			syscall.Unmount(fields[4], syscall.MNT_DETACH)
		}
	}
}

// bootedRoot is systemd running as PID 1 of new PID, mount and network namespaces,
// chrooted into a root.
type bootedRoot struct {
	root string
	cmd  *exec.Cmd // unshare
	pid  int       // systemd, as this machine sees it
	done chan error
}

// boot starts systemd in root and stops it (and everything it started) at cleanup.
func boot(t *testing.T, root string) *bootedRoot {
	t.Helper()
	logFile, err := os.Create(filepath.Join(filepath.Dir(root), "boot.log"))
	if err != nil {
		t.Fatal(err)
	}
	// The bind mount makes the root a mount point, which systemd's per-unit mount
	// namespaces (ProtectSystem= and friends) need.
	cmd := exec.Command("unshare", "--fork", "--pid", "--mount", "--net", "--mount-proc",
		"sh", "-c", `mount --bind "$1" "$1" && exec chroot "$1" /lib/systemd/systemd`, "sh", root)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &bootedRoot{root: root, cmd: cmd, done: make(chan error, 1)}
	go func() { b.done <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(b.stop)
	waitFor(t, 30*time.Second, "systemd starts in the root", func() error {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if err != nil {
			return err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			return fmt.Errorf("no child yet")
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if !strings.HasSuffix(exe, "/systemd") {
			return fmt.Errorf("child %d runs %q", pid, exe)
		}
		b.pid = pid
		return nil
	})
	waitFor(t, 60*time.Second, "systemd answers", func() error {
		_, err := b.exec(t, "systemctl", "is-system-running")
		if err != nil && !strings.Contains(err.Error(), "exit status") {
			return err
		}
		return nil
	})
	return b
}

// stop halts systemd cleanly, or kills its PID namespace after 30 s.
func (b *bootedRoot) stop() {
	if b.pid > 0 {
		syscall.Kill(b.pid, haltSignal)
	} else {
		b.cmd.Process.Kill()
	}
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		if b.pid > 0 {
			syscall.Kill(b.pid, syscall.SIGKILL) // PID 1 of the namespace: takes everything with it
		}
		b.cmd.Process.Kill()
		<-b.done
	}
}

// enterArgs runs a command inside the booted root (all its namespaces, its root).
func (b *bootedRoot) enterArgs(args ...string) []string {
	return append([]string{"-t", strconv.Itoa(b.pid), "-m", "-p", "-n", "-u", "-i", "-r", "-w"}, args...)
}

// exec runs a command inside the booted root and returns its output.
func (b *bootedRoot) exec(t *testing.T, args ...string) (string, error) {
	r := run(t, "/", nil, "nsenter", b.enterArgs(args...)...)
	if r.err != nil {
		return r.out, fmt.Errorf("%s: %w: %s", strings.Join(args, " "), r.err, r.out)
	}
	return r.out, nil
}

// inNetns runs a program of this machine (the aws CLI) in the root's network namespace.
func (b *bootedRoot) inNetns(t *testing.T, env []string, args ...string) result {
	return run(t, "/", env, "nsenter", append([]string{"-t", strconv.Itoa(b.pid), "-n"}, args...)...)
}

// chrootExe writes the program that the chroot connection runs instead of chroot(8):
// it enters the booted root's namespaces, so the playbook talks to its systemd.
func (b *bootedRoot) chrootExe(t *testing.T) string {
	path := filepath.Join(filepath.Dir(b.root), "enter-booted-root")
	script := fmt.Sprintf("#!/bin/sh\n# $1 is the root; nsenter --root takes the booted one's.\nshift\nexec nsenter %s \"$@\"\n",
		strings.Join(b.enterArgs(), " "))
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
