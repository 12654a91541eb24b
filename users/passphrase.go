package users

import (
	"crypto/rand"
	"errors"
	"fmt"
	"runtime/debug"

	"golang.org/x/crypto/argon2"
)

// Secrets leave the Pi (in the remote index snapshot, for a restore) only
// sealed under a key derived from a passphrase the admin chose, never under
// users.key, which stays in the data directory.

// KDFArgon2id names the one key derivation a PassphraseKDF uses.
const KDFArgon2id = "argon2id"

// Costs of the passphrase's key derivation: argon2id with RFC 9106's
// second recommended option, its memory lowered to what a Pi Zero 2 W
// (512 MiB) spares for a moment at start-up.
const (
	DefaultKDFTime      = 3
	DefaultKDFMemoryKiB = 64 << 10
	DefaultKDFThreads   = 1
	kdfSaltSize         = 16
	// maxKDFMemoryKiB bounds what a snapshot's parameters may ask of the
	// machine that restores it.
	maxKDFMemoryKiB = 1 << 20
	maxKDFTime      = 64
)

// MinPassphraseLength is the shortest passphrase accepted.
const MinPassphraseLength = 12

// PassphraseKDF says how a key is derived from a passphrase: argon2id over
// the passphrase and Salt with these costs, 32 bytes.
type PassphraseKDF struct {
	Salt      []byte
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// NewPassphraseKDF returns the default costs with a fresh random salt.
func NewPassphraseKDF() PassphraseKDF {
	salt := make([]byte, kdfSaltSize)
	rand.Read(salt)
	return PassphraseKDF{Salt: salt, Time: DefaultKDFTime, MemoryKiB: DefaultKDFMemoryKiB, Threads: DefaultKDFThreads}
}

// ErrPassphrase marks a passphrase that does not open what it should: the
// wrong one.
var ErrPassphrase = errors.New("users: the passphrase does not open the sealed secrets (a wrong passphrase?)")

// CheckPassphrase refuses a passphrase too short to protect secrets that
// leave the Pi.
func CheckPassphrase(passphrase string) error {
	if len(passphrase) < MinPassphraseLength {
		return fmt.Errorf("users: the passphrase has %d characters; use at least %d", len(passphrase), MinPassphraseLength)
	}
	return nil
}

// Sealer derives the key from passphrase and returns a Sealer over it.
func (k PassphraseKDF) Sealer(passphrase string) (*Sealer, error) {
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	if len(k.Salt) < kdfSaltSize || k.Time == 0 || k.Time > maxKDFTime || k.MemoryKiB < 8 || k.MemoryKiB > maxKDFMemoryKiB || k.Threads == 0 {
		return nil, fmt.Errorf("users: passphrase key derivation (salt %d bytes, time %d, memory %d KiB, threads %d) is out of bounds",
			len(k.Salt), k.Time, k.MemoryKiB, k.Threads)
	}
	key := argon2.IDKey([]byte(passphrase), k.Salt, k.Time, k.MemoryKiB, k.Threads, SealKeySize)
	// The derivation's memory (64 MiB by default) would otherwise stay
	// resident until the scavenger returns it: more than a Pi's whole steady
	// budget. Measured: RSS 74 MiB after a derivation, 8.5 MiB after this.
	debug.FreeOSMemory()
	return NewSealer(key)
}

// checkID is the additional data of a passphrase check: no access key
// has a ':'.
const checkID = "ipas:passphrase-check"

// SealCheck returns a value that only the same key opens, so that a wrong
// passphrase is told apart from a damaged secret, also when there are no
// secrets.
func (s *Sealer) SealCheck() []byte { return s.Seal(checkID, checkID) }

// OpensCheck reports whether check was sealed with s's key.
func (s *Sealer) OpensCheck(check []byte) bool {
	v, err := s.Open(checkID, check)
	return err == nil && v == checkID
}

// Reseal opens a secret sealed by from and seals it with to.
func Reseal(from, to *Sealer, id string, sealed []byte) ([]byte, error) {
	secret, err := from.Open(id, sealed)
	if err != nil {
		return nil, err
	}
	return to.Seal(id, secret), nil
}
