package objecthash

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// ErrMismatch means bytes do not hash to the object's hash.
var ErrMismatch = errors.New("objecthash: bytes do not match the object's hash")

// ErrMalformed means a hash is neither 64 lowercase hex digits nor
// "hex-N", or a composite's part sizes do not fit it.
var ErrMalformed = errors.New("objecthash: malformed object hash")

// Hash is a parsed object hash.
type Hash struct {
	Digest [sha256.Size]byte
	// Parts is the part count of a composite hash; 0 for a full SHA-256.
	Parts int
}

// Composite reports whether h is a composite hash.
func (h Hash) Composite() bool { return h.Parts > 0 }

// String is h as it is stored: hex, or hex-N for a composite.
func (h Hash) String() string {
	s := hex.EncodeToString(h.Digest[:])
	if h.Parts > 0 {
		s += "-" + strconv.Itoa(h.Parts)
	}
	return s
}

// Parse reads what String wrote.
func Parse(s string) (Hash, error) {
	var h Hash
	digest, n, composite := strings.Cut(s, "-")
	if composite {
		parts, err := strconv.Atoi(n)
		if err != nil || parts < 1 || strconv.Itoa(parts) != n {
			return h, fmt.Errorf("%w %q: bad part count", ErrMalformed, s)
		}
		h.Parts = parts
	}
	if len(digest) != 2*sha256.Size || strings.ToLower(digest) != digest {
		return h, fmt.Errorf("%w %q", ErrMalformed, s)
	}
	if _, err := hex.Decode(h.Digest[:], []byte(digest)); err != nil {
		return h, fmt.Errorf("%w %q", ErrMalformed, s)
	}
	return h, nil
}

// IsComposite reports whether s is written as a composite hash, without
// checking the rest of it.
func IsComposite(s string) bool { return strings.Contains(s, "-") }

// Composite is the composite hash of the parts whose raw SHA-256 digests
// are given, in order.
func Composite(parts [][sha256.Size]byte) Hash {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p[:])
	}
	out := Hash{Parts: len(parts)}
	h.Sum(out.Digest[:0])
	return out
}

// CompositeOf is the composite hash of parts named by their lowercase hex
// SHA-256 (blob names), in order.
func CompositeOf(partHex []string) (Hash, error) {
	digests := make([][sha256.Size]byte, len(partHex))
	for i, p := range partHex {
		d, err := Parse(p)
		if err != nil || d.Composite() {
			return Hash{}, fmt.Errorf("objecthash: part %d: %w %q", i+1, ErrMalformed, p)
		}
		digests[i] = d.Digest
	}
	return Composite(digests), nil
}

// Verifier is an io.Writer that hashes an object's bytes, written in order,
// the way its hash was made: one SHA-256 for a full hash, one per part for
// a composite, which therefore needs the part sizes. Check compares.
type Verifier struct {
	want  Hash
	err   error   // a bad hash or part list: Check returns it
	sizes []int64 // composite: the part sizes
	h     hash.Hash
	left  int64 // composite: bytes still due in part len(done)
	done  [][sha256.Size]byte
	n     int64 // bytes written
}

// NewVerifier returns a Verifier of bytes against want. partSizes, the
// sizes of the object's parts in order, are needed for a composite hash
// and ignored for a full one. A malformed want, or part sizes that do not
// match its part count, make Check fail with ErrMalformed.
func NewVerifier(want string, partSizes []int64) *Verifier {
	v := &Verifier{h: sha256.New()}
	v.want, v.err = Parse(want)
	if v.err == nil && v.want.Composite() {
		if len(partSizes) != v.want.Parts {
			v.err = fmt.Errorf("%w %q: %d part sizes for %d parts", ErrMalformed, want, len(partSizes), v.want.Parts)
		}
		for _, s := range partSizes {
			if s < 0 {
				v.err = fmt.Errorf("%w %q: negative part size", ErrMalformed, want)
			}
		}
		v.sizes = partSizes
		if v.err == nil {
			v.left = partSizes[0]
		}
	}
	return v
}

// Size is the object size the part sizes give; -1 for a full hash, which
// does not tell it.
func (v *Verifier) Size() int64 {
	if !v.want.Composite() || v.err != nil {
		return -1
	}
	var n int64
	for _, s := range v.sizes {
		n += s
	}
	return n
}

// Write hashes p, the next bytes of the object. It never fails: bytes past
// the last part are counted, and Check reports them.
func (v *Verifier) Write(p []byte) (int, error) {
	total := len(p)
	v.n += int64(total)
	if !v.want.Composite() || v.err != nil {
		v.h.Write(p)
		return total, nil
	}
	for len(p) > 0 {
		v.endParts()
		if len(v.done) == len(v.sizes) {
			break // past the end: counted in v.n
		}
		k := int64(len(p))
		if k > v.left {
			k = v.left
		}
		v.h.Write(p[:k])
		v.left -= k
		p = p[k:]
	}
	return total, nil
}

// endParts closes the parts whose bytes are all written (and empty parts
// next in line).
func (v *Verifier) endParts() {
	for v.left == 0 && len(v.done) < len(v.sizes) {
		var d [sha256.Size]byte
		v.h.Sum(d[:0])
		v.h.Reset()
		v.done = append(v.done, d)
		if len(v.done) < len(v.sizes) {
			v.left = v.sizes[len(v.done)]
		}
	}
}

// Sum is the hash of the bytes written so far, in the form of the one
// wanted (for a composite, the parts completed and the one in progress).
func (v *Verifier) Sum() string {
	if !v.want.Composite() || v.err != nil {
		var h Hash
		v.h.Sum(h.Digest[:0])
		return h.String()
	}
	v.endParts()
	digests := v.done
	if len(v.done) < len(v.sizes) {
		var d [sha256.Size]byte
		v.h.Sum(d[:0])
		digests = append(digests[:len(digests):len(digests)], d)
	}
	return Composite(digests).String()
}

// Check returns nil when the bytes written are the object: for a
// composite, exactly the part sizes' bytes, part by part matching the
// hash. Otherwise an error wrapping ErrMismatch (or ErrMalformed) that
// says what differs.
func (v *Verifier) Check() error {
	if v.err != nil {
		return v.err
	}
	if size := v.Size(); size >= 0 && v.n != size {
		return fmt.Errorf("%w: %d bytes, its parts add up to %d", ErrMismatch, v.n, size)
	}
	if got := v.Sum(); got != v.want.String() {
		return fmt.Errorf("%w: the bytes hash to %s, want %s", ErrMismatch, got, v.want)
	}
	return nil
}

// Verify hashes b, the whole object, and checks it against want.
func Verify(want string, partSizes []int64, b []byte) error {
	v := NewVerifier(want, partSizes)
	v.Write(b)
	return v.Check()
}

// MaxRuns is how many runs of equal consecutive part sizes a composite
// object may have. The remote copy must carry its part sizes, run-length
// encoded ("8388608*12,1234"), to be checked at all: 32 runs of at most
// 26 bytes each always fit S3's 2 KiB of metadata next to the entries that
// are never dropped. An upload with more runs (parts of many different
// sizes) gets a full SHA-256 instead.
const MaxRuns = 32

// Fits reports whether an object of parts of these sizes may have a
// composite hash (MaxRuns).
func Fits(partSizes []int64) bool {
	runs := 0
	for i, s := range partSizes {
		if i == 0 || s != partSizes[i-1] {
			runs++
		}
	}
	return runs <= MaxRuns
}
