package restore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// TestRangeWriter: a range is written at its offset, through O_DIRECT where
// it can (whole blocks from aligned memory) and the page cache for the
// rest, and hashed in order; a direct write the kernel refuses (here: from
// memory that is not aligned, as a filesystem without O_DIRECT refuses any)
// falls back to the page cache with the same bytes, and says so once.
func TestRangeWriter(t *testing.T) {
	data := make([]byte, 3*chunkSize+directAlign+123)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	for _, tc := range []struct {
		name     string
		misalign bool
	}{{"direct", false}, {"refused", true}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "part-0")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			direct, err := openDirect(path)
			if err != nil {
				t.Skipf("no O_DIRECT here: %v", err)
			}
			var refused []error
			var hashed bytes.Buffer
			const off = 2 * directAlign
			buf := chunks.Get().(*[]byte)
			defer chunks.Put(buf)
			w := &rangeWriter{f: f, direct: direct, off: off, h: &hashed, buf: *buf,
				noDirect: func(err error) { refused = append(refused, err) }}
			if tc.misalign {
				w.buf = make([]byte, chunkSize+directAlign)[1:][:chunkSize]
				if uintptr(unsafe.Pointer(&w.buf[0]))%directAlign == 0 {
					w.buf = w.buf[1:]
				}
			}
			defer w.close()
			if n, err := w.ReadFrom(bytes.NewReader(data)); err != nil || n != int64(len(data)) {
				t.Fatalf("ReadFrom: %d, %v; want %d bytes", n, err, len(data))
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[off:], data) || !bytes.Equal(got[:off], make([]byte, off)) {
				t.Errorf("the file does not hold the range at %d (%d bytes)", off, len(got))
			}
			if !bytes.Equal(hashed.Bytes(), data) {
				t.Error("the hash was not given the range's bytes in order")
			}
			switch {
			case tc.misalign && (len(refused) != 1 || w.direct != nil):
				t.Errorf("refused %v, direct %v: want one refusal and the page cache from then on", refused, w.direct)
			case !tc.misalign && len(refused) != 0:
				t.Errorf("direct writes refused: %v", refused)
			}
		})
	}
}
