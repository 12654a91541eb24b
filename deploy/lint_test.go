//go:build ansible

package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAnsibleLint runs ansible-lint (production profile, from .ansible-lint) on the
// playbook, the role and the example inventories.
func TestAnsibleLint(t *testing.T) {
	requireRoot(t, "ansible-lint")
	r := run(t, playbookDir(t), []string{"ANSIBLE_NOCOLOR=1", "NO_COLOR=1"}, "ansible-lint")
	if r.err != nil {
		t.Fatalf("ansible-lint: %v\n%s", r.err, r.out)
	}
}

// TestExampleInventories_RenderConfig renders the configuration of every example host
// (secrets from the example vault) and checks the sections a user configured.
func TestExampleInventories_RenderConfig(t *testing.T) {
	requireRoot(t, "ansible-playbook")
	work := t.TempDir()
	pw := filepath.Join(work, "vault-password")
	if err := os.WriteFile(pw, []byte("ipas-example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for inv, hosts := range map[string][]string{
		"one-pi":    {"backup-pi"},
		"three-pis": {"pi-living-room", "pi-office", "pi-garage"},
	} {
		out := filepath.Join(work, inv)
		if err := os.Mkdir(out, 0o700); err != nil {
			t.Fatal(err)
		}
		mustRun(t, playbookDir(t), nil, "ansible-playbook", "-i", "inventories/"+inv+"/hosts.yml",
			"--vault-password-file", pw, "tests/render.yml", "-e", "ipas_render_dest="+out)
		for _, host := range hosts {
			raw, err := os.ReadFile(filepath.Join(out, host+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				DataDir string `yaml:"data_dir"`
				S3      struct {
					Address     string              `yaml:"address"`
					Credentials []map[string]string `yaml:"credentials"`
				} `yaml:"s3"`
				Drop struct {
					Folders []map[string]string `yaml:"folders"`
				} `yaml:"drop"`
				Remote      map[string]any    `yaml:"remote"`
				Replication map[string]string `yaml:"replication"`
			}
			if err := yaml.Unmarshal(raw, &cfg); err != nil {
				t.Fatalf("%s/%s: %v\n%s", inv, host, err, raw)
			}
			switch {
			case cfg.DataDir == "" || cfg.S3.Address != ":9000":
				t.Errorf("%s/%s: data_dir %q, s3.address %q", inv, host, cfg.DataDir, cfg.S3.Address)
			case len(cfg.S3.Credentials) != 1 || cfg.S3.Credentials[0]["access_key"] != "IPASEXAMPLEACCESSKEY":
				t.Errorf("%s/%s: the vaulted S3 credential is not in the config:\n%s", inv, host, raw)
			case len(cfg.Drop.Folders) != 1 || cfg.Drop.Folders[0]["path"] == "":
				t.Errorf("%s/%s: no drop folder:\n%s", inv, host, raw)
			case cfg.Remote["secret_key"] != "change-me-remote-secret-0123456789" || cfg.Remote["bucket"] == "":
				t.Errorf("%s/%s: the remote section lacks the vaulted secret or the bucket:\n%s", inv, host, raw)
			case cfg.Replication["bandwidth"] == "" || cfg.Replication["monthly_budget"] == "":
				t.Errorf("%s/%s: no timetable or budget:\n%s", inv, host, raw)
			case strings.Contains(string(raw), "$ANSIBLE_VAULT") || strings.Contains(string(raw), "share"):
				t.Errorf("%s/%s: vault blobs or role-only keys in the config:\n%s", inv, host, raw)
			}
			// The real binary must accept what the role renders (unknown keys are an error).
			path := filepath.Join(out, host+".yaml")
			if out, err := exec.Command(gatewayBinary(t), "check-config", "--config", path).CombinedOutput(); err != nil {
				t.Errorf("%s/%s: gateway check-config refuses the rendered config: %v\n%s\n%s", inv, host, err, out, raw)
			}
		}
	}
}
