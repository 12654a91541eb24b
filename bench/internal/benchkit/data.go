package benchkit

import (
	"io"
	"math/rand/v2"
)

// RandReader is an endless stream of incompressible bytes, the same for the
// same seed.
func RandReader(seed uint64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return randReader{rand.NewChaCha8(s)}
}

type randReader struct{ r *rand.ChaCha8 }

func (r randReader) Read(p []byte) (int, error) { return r.r.Read(p) }
