//go:build ansible

package deploy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// playbookDir is where ansible-playbook runs: its ansible.cfg points at the role.
func playbookDir(t *testing.T) string { return filepath.Join(repoRoot(t), "deploy", "ansible") }

// testInventory puts root in the group ipas behind the chroot connection, with the
// variables a user would set, less those today's gateway does not know yet.
func testInventory(t *testing.T, work, root string) string {
	t.Helper()
	inv := fmt.Sprintf(`all:
  children:
    ipas:
      hosts:
        testpi:
          ansible_connection: community.general.chroot
          ansible_host: %s
          ansible_become: false
      vars:
        ipas_s3_credentials:
          - access_key: %s
            secret_key: %s
        ipas_drop_folders:
          - path: /srv/ipas-drop
            bucket: drop
        # Drop folders are prepared and shared, but not written into the config yet:
        # the gateway under test predates them.
        ipas_drop_in_config: false
        ipas_samba_enabled: true
        ipas_samba_users:
          - name: laptop
            password: laptop-password-1
        ipas_health_retries: 20
`, root, testAccessKey, testSecretKey)
	path := filepath.Join(work, "inventory.yml")
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// playbookRun is one ansible-playbook run: its output and the PLAY RECAP counters.
type playbookRun struct {
	result
	changed, failed int
}

var recapRe = regexp.MustCompile(`testpi\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)`)

// playbook runs site.yml; prefix, if any, is the command that wraps ansible-playbook.
func playbook(t *testing.T, prefix []string, inventory string, extra ...string) playbookRun {
	t.Helper()
	args := append([]string{}, prefix...)
	args = append(args, "ansible-playbook", "-i", inventory, "site.yml")
	args = append(args, extra...)
	r := run(t, playbookDir(t), []string{"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0"}, args[0], args[1:]...)
	m := recapRe.FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("no PLAY RECAP for testpi (%v):\n%s", r.err, r.out)
	}
	var p playbookRun
	p.result = r
	fmt.Sscan(m[1], &p.changed)
	fmt.Sscan(m[2], &p.failed)
	t.Logf("ansible-playbook %s: changed=%d failed=%d in %s", strings.Join(extra, " "), p.changed, p.failed, r.took.Round(time.Second))
	return p
}

// changedTasks lists the tasks a run reported as changed, for failure messages.
func changedTasks(out string) string {
	var names []string
	task := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "TASK [") {
			task = line
		}
		if strings.HasPrefix(line, "changed: ") {
			names = append(names, task)
		}
	}
	return strings.Join(names, "\n")
}

// TestAnsible_InstallUpgradeRollback applies the playbook to a debootstrapped Debian
// root: offline through the chroot connection, then live with systemd booted in the
// root; a second run changes nothing; an upgrade swaps the version; a broken upgrade
// is rolled back and the previous version serves the same data again.
func TestAnsible_InstallUpgradeRollback(t *testing.T) {
	requireRoot(t, "ansible-playbook", "debootstrap", "unshare", "nsenter", "curl", "sha256sum", awsCLI())
	start := time.Now()
	work := t.TempDir()

	rel1 := buildRelease(t, "v0.0.1-test", filepath.Join(work, "rel1"), hostTarget())
	rel2 := buildRelease(t, "v0.0.2-test", filepath.Join(work, "rel2"), hostTarget())
	rel3 := brokenRelease(t, filepath.Join(work, "rel3"))
	// The first install downloads from a URL as it would from a real release page.
	srv := httptest.NewServer(http.FileServer(http.Dir(rel1)))
	defer srv.Close()

	root := freshRoot(t, work)
	inv := testInventory(t, work, root)
	v1 := []string{"-e", "ipas_version=v0.0.1-test", "-e", "ipas_release_url=" + srv.URL}

	// 1. Offline, as when preparing an SD card image: /proc mounted in a private mount
	// namespace, nothing running.
	offline := []string{"unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount -t proc proc "$1/proc" && shift && exec "$@"`, "sh", root}
	if p := playbook(t, offline, inv, v1...); p.err != nil || p.failed != 0 {
		t.Fatalf("offline install: %v\n%s", p.err, p.out)
	}
	assertInstalledFiles(t, root, "v0.0.1-test")

	// 2. Boot: the unit starts by itself and serves signed requests.
	sys := boot(t, root)
	waitActive(t, sys, "ipas")
	waitActive(t, sys, "smbd")
	s3 := s3Client{sys: sys, endpoint: "http://127.0.0.1:9000"}
	s3.mustServe(t)
	s3.mustRun(t, "s3", "mb", "s3://photos")
	s3.put(t, work, "photos/2024/beach.jpg", "sand and sea")
	if out, err := sys.exec(t, "pdbedit", "-L"); err != nil || !strings.Contains(out, "laptop:") {
		t.Fatalf("the Samba account is missing: %v %s", err, out)
	}
	if out, err := sys.exec(t, "testparm", "-s", "--section-name", "drop"); err != nil || !strings.Contains(out, "path = /srv/ipas-drop") {
		t.Fatalf("the drop folder is not shared: %v %s", err, out)
	}

	// 3. Live runs change nothing.
	live := []string{"-e", "ansible_chroot_exe=" + sys.chrootExe(t)}
	if p := playbook(t, nil, inv, append(live, v1...)...); p.err != nil || p.changed != 0 {
		t.Fatalf("second run: %v, changed=%d, want 0; changed tasks:\n%s\n%s", p.err, p.changed, changedTasks(p.out), p.out)
	}

	// 4. Upgrade, from a release directory on the controller this time.
	v2 := append(live, "-e", "ipas_version=v0.0.2-test", "-e", "ipas_release_dir="+rel2)
	if p := playbook(t, nil, inv, v2...); p.err != nil || p.failed != 0 || p.changed == 0 {
		t.Fatalf("upgrade: %v changed=%d\n%s", p.err, p.changed, p.out)
	}
	assertRunning(t, sys, "v0.0.2-test")
	s3.get(t, work, "photos/2024/beach.jpg", "sand and sea")
	// Type=notify: systemd waited for READY=1; a reload is a SIGHUP to the
	// same process, which stays active.
	pid, _ := sys.exec(t, "systemctl", "show", "--value", "-p", "MainPID", "ipas")
	if out, err := sys.exec(t, "systemctl", "reload", "ipas"); err != nil {
		t.Fatalf("systemctl reload ipas: %v\n%s", err, out)
	}
	waitActive(t, sys, "ipas")
	if again, _ := sys.exec(t, "systemctl", "show", "--value", "-p", "MainPID", "ipas"); again != pid {
		t.Fatalf("reload replaced the process: MainPID %q -> %q", pid, again)
	}

	// 5. A broken build: checksum fine, health check fails, the play fails and says
	// so, and the previous release serves the same objects again.
	v3 := append(live, "-e", "ipas_version=v0.0.3-broken", "-e", "ipas_release_dir="+rel3)
	p := playbook(t, nil, inv, v3...)
	if p.err == nil || p.failed == 0 {
		t.Fatalf("the broken upgrade reported success:\n%s", p.out)
	}
	if !strings.Contains(p.out, "Rolled back to gateway-v0.0.2-test") {
		t.Fatalf("the failed upgrade does not say it rolled back:\n%s", p.out)
	}
	assertRunning(t, sys, "v0.0.2-test")
	s3.get(t, work, "photos/2024/beach.jpg", "sand and sea")
	s3.put(t, work, "photos/2024/after-rollback.jpg", "still writable")

	// 6. Back on the good release, nothing to change.
	if p := playbook(t, nil, inv, v2[:len(live)+4]...); p.err != nil || p.changed != 0 {
		t.Fatalf("run after the rollback: %v changed=%d, want 0; changed tasks:\n%s\n%s", p.err, p.changed, changedTasks(p.out), p.out)
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Second))
}

// assertInstalledFiles checks what the offline run left in the root.
func assertInstalledFiles(t *testing.T, root, version string) {
	t.Helper()
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if !strings.Contains(read("etc/passwd"), "\nipas:") {
		t.Error("no system user ipas")
	}
	target, err := os.Readlink(filepath.Join(root, "opt/ipas/current"))
	if err != nil || !strings.Contains(target, "gateway-"+version+"-") {
		t.Errorf("/opt/ipas/current -> %q (%v), want the %s release", target, err, version)
	}
	cfg := read("etc/ipas/config.yaml")
	for _, want := range []string{"data_dir: /var/lib/ipas", "access_key: " + testAccessKey, "address: :9000"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "remote:") || strings.Contains(cfg, "drop:") {
		t.Errorf("config.yaml has sections that were not asked for:\n%s", cfg)
	}
	unit := read("etc/systemd/system/ipas.service")
	for _, want := range []string{"Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ReadWritePaths=/var/lib/ipas /srv/ipas-drop\n", "LimitNOFILE=65536",
		"Type=notify\n", "WatchdogSec=60s\n", "ExecReload=/bin/kill -HUP $MAINPID\n",
		"CapabilityBoundingSet=CAP_LEASE\n", "AmbientCapabilities=CAP_LEASE\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q:\n%s", want, unit)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/ipas.service")); err != nil {
		t.Errorf("the unit is not enabled: %v", err)
	}
	if !strings.Contains(read("etc/sysctl.d/60-ipas.conf"), "fs.inotify.max_user_watches = 524288") {
		t.Error("inotify watches not raised")
	}
	if rules := read("etc/ufw/user.rules"); !strings.Contains(rules, "--dport 9000 -j ACCEPT") {
		t.Errorf("ufw has no rule for the S3 port:\n%s", rules)
	}
	if !strings.Contains(read("etc/samba/smb.conf"), "include = /etc/samba/ipas-shares.conf") {
		t.Error("smb.conf does not include the IPAS shares")
	}
}

// waitActive waits until the unit is active in the booted root.
func waitActive(t *testing.T, sys *bootedRoot, unit string) {
	t.Helper()
	waitFor(t, 60*time.Second, unit+" active", func() error {
		out, err := sys.exec(t, "systemctl", "is-active", unit)
		if err != nil {
			status, _ := sys.exec(t, "systemctl", "status", "--no-pager", "-n", "20", unit)
			return fmt.Errorf("%v\n%s", err, status)
		}
		if strings.TrimSpace(out) != "active" {
			return fmt.Errorf("%s is %s", unit, out)
		}
		return nil
	})
}

// assertRunning checks that the unit runs the binary of version, and is active.
func assertRunning(t *testing.T, sys *bootedRoot, version string) {
	t.Helper()
	waitActive(t, sys, "ipas")
	out, err := sys.exec(t, "/opt/ipas/current", "version")
	if err != nil || strings.TrimSpace(out) != "gateway "+version {
		t.Fatalf("/opt/ipas/current version: %q %v, want gateway %s", out, err, version)
	}
	pid, err := sys.exec(t, "systemctl", "show", "--value", "-p", "MainPID", "ipas")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := sys.exec(t, "readlink", "/proc/"+strings.TrimSpace(pid)+"/exe")
	if err != nil || !strings.Contains(exe, "gateway-"+version+"-") {
		t.Fatalf("the service's process runs %q (%v), want the %s release", exe, err, version)
	}
}
