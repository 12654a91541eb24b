package users

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// SealKeySize is the size of the key that seals secrets.
const SealKeySize = 32

// Sealer encrypts and decrypts secrets. The access key ID is the additional
// data, so that a sealed secret cannot be moved to another key.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer over a SealKeySize-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != SealKeySize {
		return nil, fmt.Errorf("users: seal key is %d bytes, want %d", len(key), SealKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("users: seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("users: seal key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts the secret of access key id.
func (s *Sealer) Seal(id, secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(id))
}

// ErrUnseal marks a sealed secret that the key does not open: another data
// directory's key, or damage.
var ErrUnseal = errors.New("users: the sealed secret does not open with this data directory's key")

// Open decrypts the sealed secret of access key id.
func (s *Sealer) Open(id string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", ErrUnseal
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}
