package remoteindex

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Reader streams a snapshot back: Header at once, Buckets, then Next for each
// object. Next returns io.EOF only after the trailer matched what was read
// and the gzip stream ended intact; anything else is ErrTruncated.
type Reader struct {
	gz      *gzip.Reader
	dec     *json.Decoder
	header  Header
	pending *line // read ahead by Buckets
	seen    Trailer
	done    bool
}

// NewReader reads the header from r and refuses a newer format.
func NewReader(r io.Reader) (*Reader, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("remoteindex: read header: %v: %w", err, ErrTruncated)
	}
	gz.Multistream(false)
	ir := &Reader{gz: gz, dec: json.NewDecoder(gz)}
	var l line
	if err := ir.dec.Decode(&l); err != nil || l.Header == nil {
		return nil, fmt.Errorf("remoteindex: read header: %w", damaged(err, "the first line is not a header"))
	}
	ir.header = *l.Header
	if ir.header.Format > FormatVersion {
		return nil, fmt.Errorf("remoteindex: snapshot format %d, this program reads up to %d: %w",
			ir.header.Format, FormatVersion, ErrNewerFormat)
	}
	return ir, nil
}

// Header returns the snapshot's header.
func (r *Reader) Header() Header { return r.header }

// CheckIdentity refuses a snapshot of another remote bucket or prefix, or
// (when want.ArchiveID is set) of another archive.
func (h Header) CheckIdentity(want Identity) error {
	got := h.Identity
	switch {
	case got.Bucket != want.Bucket || normPrefix(got.Prefix) != normPrefix(want.Prefix):
		return fmt.Errorf("remoteindex: snapshot describes bucket %q prefix %q, this remote is bucket %q prefix %q: %w",
			got.Bucket, got.Prefix, want.Bucket, want.Prefix, ErrOtherArchive)
	case want.ArchiveID != "" && got.ArchiveID != want.ArchiveID:
		return fmt.Errorf("remoteindex: snapshot is of archive %q, expected %q: %w", got.ArchiveID, want.ArchiveID, ErrOtherArchive)
	}
	return nil
}

func normPrefix(p string) string { return strings.Trim(p, "/") }

// Buckets reads every bucket line; call it once, before Next.
func (r *Reader) Buckets() ([]Bucket, error) {
	var out []Bucket
	for {
		l, err := r.line()
		if err != nil {
			return nil, err
		}
		if l.Bucket == nil {
			r.pending = l
			return out, nil
		}
		r.seen.Buckets++
		out = append(out, *l.Bucket)
	}
}

// Next returns the next object, or io.EOF once the trailer and the end of
// the stream were checked.
func (r *Reader) Next() (Object, error) {
	if r.done {
		return Object{}, io.EOF
	}
	for {
		l := r.pending
		r.pending = nil
		if l == nil {
			var err error
			if l, err = r.line(); err != nil {
				return Object{}, err
			}
		}
		switch {
		case l.Object != nil:
			r.seen.Objects++
			r.seen.Bytes += l.Object.Size
			return *l.Object, nil
		case l.Bucket != nil:
			r.seen.Buckets++ // Buckets was not called: skip them
		case l.Trailer != nil:
			return Object{}, r.finish(*l.Trailer)
		default:
			return Object{}, fmt.Errorf("remoteindex: read: %w", damaged(nil, "a line with no known content"))
		}
	}
}

// finish checks the trailer against what was read and that the stream ends
// with it, intact.
func (r *Reader) finish(t Trailer) error {
	if t != r.seen {
		return fmt.Errorf("remoteindex: trailer says %d buckets, %d objects, %d bytes, read %d, %d, %d: %w",
			t.Buckets, t.Objects, t.Bytes, r.seen.Buckets, r.seen.Objects, r.seen.Bytes, ErrTruncated)
	}
	var extra line
	if err := r.dec.Decode(&extra); err != io.EOF {
		return fmt.Errorf("remoteindex: after the trailer: %w", damaged(err, "more lines follow"))
	}
	r.done = true
	return io.EOF
}

func (r *Reader) line() (*line, error) {
	var l line
	if err := r.dec.Decode(&l); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("remoteindex: read: %w", damaged(nil, "it ends before its trailer"))
		}
		return nil, fmt.Errorf("remoteindex: read: %w", damaged(err, ""))
	}
	return &l, nil
}

// damaged wraps a read problem as ErrTruncated, keeping the cause's text.
func damaged(err error, what string) error {
	switch {
	case err != nil && errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the gzip stream is cut short: %w", ErrTruncated)
	case err != nil && errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("the gzip checksum does not match: %w", ErrTruncated)
	case err != nil:
		return fmt.Errorf("%v: %w", err, ErrTruncated)
	}
	return fmt.Errorf("%s: %w", what, ErrTruncated)
}

// Validate reads a whole snapshot from r and returns its header and counts,
// or the reason it cannot be used: truncated or damaged, a newer format, or
// (when want is not nil) another archive.
func Validate(r io.Reader, want *Identity) (Header, Trailer, error) {
	ir, err := NewReader(r)
	if err != nil {
		return Header{}, Trailer{}, err
	}
	if want != nil {
		if err := ir.header.CheckIdentity(*want); err != nil {
			return ir.header, Trailer{}, err
		}
	}
	last := ""
	for {
		o, err := ir.Next()
		if err == io.EOF {
			return ir.header, ir.seen, nil
		}
		if err != nil {
			return ir.header, ir.seen, err
		}
		if name := o.Name(); name < last || name == last && !o.Version() {
			return ir.header, ir.seen, fmt.Errorf("remoteindex: %s after %s: %w", name, last, damaged(nil, "objects out of order"))
		} else {
			last = name
		}
	}
}
