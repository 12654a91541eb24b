package users

import (
	"bytes"
	"errors"
	"testing"
)

// TestPassphraseSealer: the key derived from a passphrase opens only what it
// sealed; a wrong passphrase fails the check; a short passphrase and costs
// out of bounds (a hostile snapshot asking for 4 GiB) are refused; Reseal
// moves a secret from the data directory's key to the passphrase's.
func TestPassphraseSealer(t *testing.T) {
	kdf := NewPassphraseKDF()
	kdf.MemoryKiB = 8 << 10 // the derivation's cost is not under test
	right, err := kdf.Sealer("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := kdf.Sealer("correct horse battery staple")
	wrong, _ := kdf.Sealer("incorrect horse battery staple")
	check := right.SealCheck()
	if !again.OpensCheck(check) || wrong.OpensCheck(check) {
		t.Fatal("the check does not tell the right passphrase from a wrong one")
	}
	other := kdf
	other.Salt = NewPassphraseKDF().Salt
	if s, _ := other.Sealer("correct horse battery staple"); s.OpensCheck(check) {
		t.Fatal("another salt derived the same key")
	}

	journal, _ := NewSealer(bytes.Repeat([]byte{9}, SealKeySize))
	inJournal := journal.Seal("AK1", "the secret")
	out, err := Reseal(journal, right, "AK1", inJournal)
	if err != nil || bytes.Contains(out, []byte("the secret")) {
		t.Fatalf("Reseal: %v", err)
	}
	if s, err := again.Open("AK1", out); err != nil || s != "the secret" {
		t.Fatalf("the passphrase reopens %q, %v", s, err)
	}
	if _, err := Reseal(wrong, journal, "AK1", out); !errors.Is(err, ErrUnseal) {
		t.Fatalf("a wrong passphrase resealed it: %v", err)
	}

	for name, k := range map[string]PassphraseKDF{
		"4 GiB":   {Salt: kdf.Salt, Time: 1, MemoryKiB: 4 << 20, Threads: 1},
		"no salt": {Time: 1, MemoryKiB: 8 << 10, Threads: 1},
		"time 0":  {Salt: kdf.Salt, MemoryKiB: 8 << 10, Threads: 1},
	} {
		if _, err := k.Sealer("correct horse battery staple"); err == nil {
			t.Errorf("%s: derived", name)
		}
	}
	if _, err := kdf.Sealer("short"); err == nil {
		t.Fatal("a 5-character passphrase was accepted")
	}
}
