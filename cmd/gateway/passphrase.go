package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/users"
)

// EnvUsersPassphrase holds the passphrase that seals the access keys'
// secrets in the remote index; it takes precedence over
// remote.users_passphrase_file.
const EnvUsersPassphrase = "IPAS_USERS_PASSPHRASE"

// usersPassphrase returns the passphrase of the environment, else of file
// ("" when neither is set). The file must be readable by its owner only.
// Neither the passphrase nor any part of the file is ever logged or
// printed.
func usersPassphrase(file, field string) (string, error) {
	if p, ok := os.LookupEnv(EnvUsersPassphrase); ok && p != "" {
		if err := users.CheckPassphrase(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvUsersPassphrase, err)
		}
		return p, nil
	}
	if file == "" {
		return "", nil
	}
	return passphraseFile(file, field)
}

// passphraseFile reads the passphrase in file, which must be readable by its
// owner only.
func passphraseFile(file, field string) (string, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", field, file, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s %s: readable by others (mode %v); chmod 600 it", field, file, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", field, file, err)
	}
	p := strings.TrimRight(string(raw), "\r\n")
	if err := users.CheckPassphrase(p); err != nil {
		return "", fmt.Errorf("%s %s: %w", field, file, err)
	}
	return p, nil
}

// dataSealer returns the sealer of the data directory's users.key, creating
// the key on first use.
func dataSealer(dataDir string) (*users.Sealer, error) {
	key, err := loadOrCreateSealKey(dataDir)
	if err != nil {
		return nil, err
	}
	return users.NewSealer(key)
}

// snapshotSecrets seals the journal's secrets under the passphrase for the
// remote index (remoteindex.Snapshotter.Secrets).
type snapshotSecrets struct {
	journal, pass *users.Sealer
	seal          remoteindex.SecretSeal
}

var _ remoteindex.SecretSealer = (*snapshotSecrets)(nil)

// newSnapshotSecrets derives the key of passphrase (once: argon2id is slow
// on purpose) with a fresh salt.
func newSnapshotSecrets(passphrase string, journal *users.Sealer) (*snapshotSecrets, error) {
	kdf := users.NewPassphraseKDF()
	pass, err := kdf.Sealer(passphrase)
	if err != nil {
		return nil, err
	}
	return &snapshotSecrets{journal: journal, pass: pass, seal: remoteindex.SecretSeal{KDF: users.KDFArgon2id, Salt: kdf.Salt,
		Time: kdf.Time, MemoryKiB: kdf.MemoryKiB, Threads: kdf.Threads, Check: pass.SealCheck()}}, nil
}

func (s *snapshotSecrets) Seal() remoteindex.SecretSeal { return s.seal }

func (s *snapshotSecrets) Reseal(id string, sealed []byte) ([]byte, error) {
	return users.Reseal(s.journal, s.pass, id, sealed)
}

// restoreSecrets is restore.Options.Secrets for passphrase: a snapshot's
// secrets are opened with it and sealed again with journal, the restored
// data directory's users.key.
func restoreSecrets(passphrase string, journal *users.Sealer) func(remoteindex.SecretSeal) (func(string, []byte) ([]byte, error), error) {
	return func(seal remoteindex.SecretSeal) (func(string, []byte) ([]byte, error), error) {
		if seal.KDF != users.KDFArgon2id {
			return nil, fmt.Errorf("the secrets are sealed with %q, which this IPAS does not know: restore with the version that wrote them", seal.KDF)
		}
		kdf := users.PassphraseKDF{Salt: seal.Salt, Time: seal.Time, MemoryKiB: seal.MemoryKiB, Threads: seal.Threads}
		pass, err := kdf.Sealer(passphrase)
		if err != nil {
			return nil, err
		}
		if !pass.OpensCheck(seal.Check) {
			return nil, users.ErrPassphrase
		}
		return func(id string, sealed []byte) ([]byte, error) { return users.Reseal(pass, journal, id, sealed) }, nil
	}
}
