package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// CredentialsFile is the name, under the data directory, of the credential generated
// on first start when none is configured.
const CredentialsFile = "credentials.yaml"

// loadOrCreateCredential returns the credential stored under dataDir, creating it
// (0600, fsynced) when it does not exist yet. created says whether it is new, so the
// caller can show it once.
func loadOrCreateCredential(dataDir string) (cred Credential, created bool, err error) {
	path := filepath.Join(dataDir, CredentialsFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := yaml.Unmarshal(raw, &cred); err != nil || cred.AccessKey == "" || cred.SecretKey == "" {
			return Credential{}, false, fmt.Errorf("credentials %s: not a valid credentials file; delete it to generate a new key, or configure s3.credentials", path)
		}
		return cred, false, nil
	case !errors.Is(err, os.ErrNotExist):
		return Credential{}, false, fmt.Errorf("credentials %s: %w", path, err)
	}
	// rand.Text is 26 base32 characters (128 bits): the access key shows 20 of them,
	// the secret carries 256 bits.
	cred = Credential{AccessKey: "IPAS" + rand.Text()[:16], SecretKey: rand.Text() + rand.Text()}
	body, err := yaml.Marshal(cred)
	if err != nil {
		return Credential{}, false, fmt.Errorf("credentials: encode: %w", err)
	}
	if err := writeFileAtomic(path, body, 0o600); err != nil {
		return Credential{}, false, fmt.Errorf("credentials %s: %w", path, err)
	}
	return cred, true, nil
}

// showNewCredential prints a freshly generated credential once. The secret goes only
// to an interactive terminal; under a service manager it would end up in a log.
func showNewCredential(w io.Writer, interactive bool, cred Credential, dataDir string) {
	path := filepath.Join(dataDir, CredentialsFile)
	fmt.Fprintf(w, "\nIPAS generated an S3 credential (stored in %s, mode 0600):\n", path)
	fmt.Fprintf(w, "  access key: %s\n", cred.AccessKey)
	if interactive {
		fmt.Fprintf(w, "  secret key: %s\n", cred.SecretKey)
		fmt.Fprintf(w, "Copy both into `aws configure`; this is the only time the secret is shown.\n\n")
	} else {
		fmt.Fprintf(w, "  secret key: read it from the file above (not printed: this is not a terminal)\n\n")
	}
}

// writeFileAtomic writes data to path through a temporary file, fsyncs it, renames
// it into place and fsyncs the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
