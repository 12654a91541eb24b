package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
)

// snapshotFile is where the downloaded snapshot is kept while it is read.
const snapshotFile = "index.jsonl.gz"

// maxPointerSize bounds the pointer file read into memory.
const maxPointerSize = 64 << 10

// snapshot is a validated remote index snapshot, open for a second pass.
type snapshot struct {
	name    string
	header  remoteindex.Header
	buckets []remoteindex.Bucket
	f       *os.File
	r       *remoteindex.Reader
	next    *remoteindex.Object // the next object not yet consumed
	err     error               // the read error that ended the stream
	// versions are noncurrent versions and delete markers read past by
	// advance, not planned yet (versions.go): at most one key's.
	versions []remoteindex.Object
}

// openSnapshot fetches and checks the newest snapshot. A snapshot that cannot
// be used returns (nil, reason, nil): restore falls back to LIST plus HEAD and
// says why. Only an error that would stop the listing as well (the remote
// refuses us, the context ends) is returned as an error.
func (r *Restorer) openSnapshot(ctx context.Context) (*snapshot, string, error) {
	if r.opts.NoSnapshot {
		return nil, "the remote index was not used (--no-index)", nil
	}
	ptr, why, err := r.readPointer(ctx)
	if ptr == nil {
		return nil, why, err
	}
	path := filepath.Join(r.opts.StateDir, snapshotFile)
	if err := r.fetchControlFile(ctx, ptr.Current, path); err != nil {
		if fatal(err) {
			return nil, "", err
		}
		return nil, fmt.Sprintf("the remote index %s could not be read (%v)", ptr.Current, err), nil
	}
	want := r.opts.Identity
	if want.ArchiveID == "" {
		want.ArchiveID = ptr.Identity.ArchiveID
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("restore: %w", err)
	}
	if _, _, err := remoteindex.Validate(f, &want); err != nil {
		f.Close()
		return nil, fmt.Sprintf("the remote index %s was refused (%v)", ptr.Current, err), nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("restore: %w", err)
	}
	ir, err := remoteindex.NewReader(f)
	if err == nil {
		s := &snapshot{name: ptr.Current, header: ir.Header(), f: f, r: ir}
		if s.buckets, err = ir.Buckets(); err == nil {
			s.advance()
			return s, "", nil
		}
	}
	f.Close()
	return nil, fmt.Sprintf("the remote index %s changed while it was read (%v)", ptr.Current, err), nil
}

// readPointer reads the "latest" pointer: nil and the reason when there is
// no usable one.
func (r *Restorer) readPointer(ctx context.Context) (*remoteindex.Pointer, string, error) {
	rc, err := r.remote.GetControlFile(ctx, remoteindex.PointerName)
	if errors.Is(err, replication.ErrNotFound) {
		return nil, "the remote has no index (" + remoteindex.PointerName + " is missing)", nil
	}
	if err != nil {
		if fatal(err) {
			return nil, "", err
		}
		return nil, fmt.Sprintf("the remote index pointer could not be read (%v)", err), nil
	}
	defer rc.Close()
	var p remoteindex.Pointer
	if err := json.NewDecoder(io.LimitReader(rc, maxPointerSize)).Decode(&p); err != nil {
		return nil, fmt.Sprintf("the remote index pointer %s is damaged (%v)", remoteindex.PointerName, err), nil
	}
	switch {
	case p.Format > remoteindex.FormatVersion:
		return nil, fmt.Sprintf("the remote index is format %d, this program reads up to %d: upgrade IPAS to use it", p.Format, remoteindex.FormatVersion), nil
	case p.Current == "":
		return nil, "the remote index pointer names no snapshot", nil
	}
	return &p, "", nil
}

// fetchControlFile copies a control file to path.
func (r *Restorer) fetchControlFile(ctx context.Context, name, path string) error {
	rc, err := r.remote.GetControlFile(ctx, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(f, r.limit.Reader(ctx, rc))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// advance reads the next current object into s.next (nil at the end); the
// versions it reads past wait in s.versions.
func (s *snapshot) advance() {
	for {
		o, err := s.r.Next()
		if err != nil {
			s.next = nil
			if err != io.EOF {
				s.err = err
			}
			return
		}
		if o.Version() {
			s.versions = append(s.versions, o)
			continue
		}
		s.next = &o
		return
	}
}

// close removes the downloaded snapshot; it may be called more than once.
func (s *snapshot) close() {
	if s != nil && s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		s.f = nil
	}
}
