package gateway

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fileSteps is a ResponseWriter that records what ReadFrom is handed.
type fileSteps struct {
	http.ResponseWriter
	files int // steps whose source was the file itself, limited once
	got   bytes.Buffer
}

func (f *fileSteps) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok {
		if _, ok := lr.R.(*os.File); ok {
			f.files++
		}
	}
	return f.got.ReadFrom(src)
}

// TestStallWriterHandsOverTheFile: a range of a file reaches the ResponseWriter as
// the file under one LimitedReader (what net's sendfile path accepts), in steps of
// sendStep, and exactly the range arrives.
func TestStallWriterHandsOverTheFile(t *testing.T) {
	data := content(3, 3*sendStep+777)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const off = 100
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rec := &fileSteps{ResponseWriter: httptest.NewRecorder()}
	w := &responseWriter{ResponseWriter: rec}
	sw := &stallWriter{w: w, rc: http.NewResponseController(w), timeout: time.Minute}
	n, err := io.Copy(sw, &io.LimitedReader{R: f, N: int64(len(data) - off - 5)})
	if err != nil || n != int64(len(data)-off-5) || !bytes.Equal(rec.got.Bytes(), data[off:len(data)-5]) {
		t.Fatalf("copied %d bytes, err %v; want %d bytes of the range", n, err, len(data)-off-5)
	}
	if rec.files != 4 || w.written != n {
		t.Fatalf("%d steps handed the file, %d bytes counted; want 4 steps and %d", rec.files, w.written, n)
	}
}
