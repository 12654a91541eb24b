package remoteindex

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ipas/ipas/objecthash"
)

// Writer streams a snapshot: the header, then every bucket, then every object
// in full-name order, then the trailer written by Close. Nothing but the
// current line is held in memory.
type Writer struct {
	gz       *gzip.Writer
	buf      *bufio.Writer
	enc      *json.Encoder
	trailer  Trailer
	lastName string
	objects  bool // an object was written: no more buckets
	format   int  // the header's
	closed   bool
}

// NewWriter writes h to w and returns the Writer for the rest.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(gz, 64<<10)
	iw := &Writer{gz: gz, buf: buf, enc: json.NewEncoder(buf)}
	iw.enc.SetEscapeHTML(false)
	if h.Format == 0 {
		h.Format = FormatPlain
	}
	iw.format = h.Format
	if err := iw.enc.Encode(line{Header: &h}); err != nil {
		return nil, fmt.Errorf("remoteindex: write header: %w", err)
	}
	return iw, nil
}

// AddBucket writes one bucket; every bucket comes before the first object.
func (w *Writer) AddBucket(b Bucket) error {
	if w.objects {
		return fmt.Errorf("remoteindex: bucket %s after the first object: %w", b.Name, ErrOutOfOrder)
	}
	if err := w.enc.Encode(line{Bucket: &b}); err != nil {
		return fmt.Errorf("remoteindex: write bucket %s: %w", b.Name, err)
	}
	w.trailer.Buckets++
	return nil
}

// AddObject writes one object; objects must come in increasing full-name
// order ("bucket/key"), the order in which restore merges them with a listing.
func (w *Writer) AddObject(o *Object) error {
	name := o.Name()
	if w.objects && (name < w.lastName || name == w.lastName && !o.Version()) {
		return fmt.Errorf("remoteindex: %s after %s: %w", name, w.lastName, ErrOutOfOrder)
	}
	if w.format < FormatComposite && objecthash.IsComposite(o.SHA256) {
		return fmt.Errorf("remoteindex: %s has a composite hash, the snapshot is format %d: %w", name, w.format, ErrFormatTooOld)
	}
	if err := w.enc.Encode(line{Object: o}); err != nil {
		return fmt.Errorf("remoteindex: write object %s: %w", name, err)
	}
	w.objects, w.lastName = true, name
	w.trailer.Objects++
	w.trailer.Bytes += o.Size
	return nil
}

// Trailer returns the counts written so far.
func (w *Writer) Trailer() Trailer { return w.trailer }

// Close writes the trailer and ends the gzip stream; it does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	t := w.trailer
	if err := w.enc.Encode(line{Trailer: &t}); err != nil {
		return fmt.Errorf("remoteindex: write trailer: %w", err)
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("remoteindex: write: %w", err)
	}
	if err := w.gz.Close(); err != nil {
		return fmt.Errorf("remoteindex: write: %w", err)
	}
	return nil
}
