package remoteindex

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// DefaultInterval is how often a snapshot is uploaded when the index changed.
const DefaultInterval = time.Hour

// Source is the journal a Snapshotter reads (queue.Node).
type Source interface {
	Index
	Stats() (queue.Stats, error)
}

// Users is what a Source that has users offers (queue.Node): the users,
// keys, bucket owners and policies, which snapshots then carry.
type Users interface {
	Directory() (queue.Directory, error)
}

// SecretSealer seals the journal's secrets for a snapshot (cmd/gateway, over
// package users).
type SecretSealer interface {
	// Seal is how the secrets are sealed, for the header.
	Seal() SecretSeal
	// Reseal turns a secret sealed in the journal (queue.AccessKey.Sealed)
	// into one sealed under the passphrase.
	Reseal(id string, sealed []byte) ([]byte, error)
}

// ControlFiles stores IPAS's own files on the remote (replication.Remote).
type ControlFiles interface {
	PutControlFile(ctx context.Context, name string, body io.Reader, size int64, md5 []byte) error
	GetControlFile(ctx context.Context, name string) (io.ReadCloser, replication.RemoteObject, error)
	DeleteControlFile(ctx context.Context, name string) error
}

// Snapshotter uploads a snapshot of the index every Interval when the journal
// moved since the last one, and on demand (a clean shutdown). It keeps the
// newest snapshot and the one before it on the remote.
type Snapshotter struct {
	// Interval between checks; 0 turns periodic uploads off.
	Interval time.Duration
	// Program is written in the header, for humans.
	Program string
	// Settings completes each bucket with its settings; may be nil.
	Settings func(*Bucket)
	// Secrets, when set, puts each access key's secret in the snapshot,
	// sealed under the admin's passphrase; nil: no secret leaves the Pi.
	Secrets SecretSealer

	src      Source
	files    ControlFiles
	identity Identity
	tempDir  string
	log      zerolog.Logger

	mu        sync.Mutex // one upload at a time
	lastIndex uint64     // journal index of the last upload; 0: none yet
	pointer   *Pointer   // the pointer last written or read
	composite bool       // a snapshot held a composite hash: write FormatComposite
}

// rewind empties f to write it again from the start.
func rewind(f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("remoteindex: upload: %w", err)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("remoteindex: upload: %w", err)
	}
	return nil
}

// tempPattern names the temporary file a snapshot is written to.
const tempPattern = "remote-index-*" + snapshotExt

// NewSnapshotter returns a Snapshotter of src's index for the remote named by
// identity. Snapshots are written to a temporary file in tempDir first; it is
// created, and emptied of files a crash left behind.
func NewSnapshotter(src Source, files ControlFiles, identity Identity, tempDir string, log zerolog.Logger) (*Snapshotter, error) {
	if err := os.MkdirAll(tempDir, 0o700); err != nil {
		return nil, fmt.Errorf("remoteindex: create %s: %w", tempDir, err)
	}
	old, _ := filepath.Glob(filepath.Join(tempDir, tempPattern))
	for _, f := range old {
		os.Remove(f)
	}
	return &Snapshotter{Interval: DefaultInterval, src: src, files: files, identity: identity, tempDir: tempDir,
		log: log.With().Str("component", "remoteindex").Logger()}, nil
}

// Run uploads a snapshot every Interval if the index changed, until ctx ends.
func (s *Snapshotter) Run(ctx context.Context) {
	if s.Interval <= 0 {
		return
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.UploadIfChanged(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("remote index not uploaded; the next attempt is in one interval (restore works without it, more slowly)")
		}
	}
}

// UploadIfChanged uploads a snapshot unless the journal has not moved since
// the last upload; it reports whether it uploaded.
func (s *Snapshotter) UploadIfChanged(ctx context.Context) (bool, error) {
	st, err := s.src.Stats()
	if err != nil {
		return false, fmt.Errorf("remoteindex: upload: %w", err)
	}
	s.mu.Lock()
	same := s.lastIndex != 0 && st.AppliedIndex == s.lastIndex
	s.mu.Unlock()
	if same {
		return false, nil
	}
	_, err = s.Upload(ctx)
	return err == nil, err
}

// Upload takes a snapshot, uploads it, points PointerName at it and deletes
// the snapshot before the previous one.
func (s *Snapshotter) Upload(ctx context.Context) (Pointer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.src.Stats()
	if err != nil {
		return Pointer{}, fmt.Errorf("remoteindex: upload: %w", err)
	}
	var dir queue.Directory
	if us, ok := s.src.(Users); ok {
		if dir, err = us.Directory(); err != nil {
			return Pointer{}, fmt.Errorf("remoteindex: upload: %w", err)
		}
	}
	h := Header{Identity: s.identity, TakenAt: time.Now().UTC(), JournalIndex: st.AppliedIndex, Program: s.Program}
	var unsealed []string
	h.Users, unsealed = usersOf(dir, s.Secrets)
	if s.Secrets != nil {
		seal := s.Secrets.Seal()
		h.Secrets = &seal
	}
	if len(unsealed) > 0 {
		s.log.Error().Strs("access_keys", unsealed).Msg("access keys whose secret does not open with users.key go into the remote index without it")
	}
	settings := func(b *Bucket) {
		if s.Settings != nil {
			s.Settings(b)
		}
		if p, ok := dir.Policies[b.Name]; ok {
			b.setSetting(SettingPolicy, p)
		}
	}
	f, err := os.CreateTemp(s.tempDir, tempPattern)
	if err != nil {
		return Pointer{}, fmt.Errorf("remoteindex: upload: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if s.composite {
		h.Format = FormatComposite
	}
	sum := md5.New()
	tr, err := Write(ctx, io.MultiWriter(f, sum), s.src, h, settings)
	if errors.Is(err, ErrFormatTooOld) {
		// The first snapshot with a composite hash: written again, once;
		// the next ones start with its format.
		s.composite, h.Format = true, FormatComposite
		sum.Reset()
		if err = rewind(f); err == nil {
			tr, err = Write(ctx, io.MultiWriter(f, sum), s.src, h, settings)
		}
	}
	if err != nil {
		return Pointer{}, err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return Pointer{}, fmt.Errorf("remoteindex: upload: %w", err)
	}
	name := SnapshotName(h.TakenAt)
	if err := s.files.PutControlFile(ctx, name, f, size, sum.Sum(nil)); err != nil {
		return Pointer{}, fmt.Errorf("remoteindex: upload %s: %w", name, err)
	}
	old := s.currentPointer(ctx)
	// A reader that knows format 2 reads a pointer of format 2 and the
	// snapshots of format 1 or 2 it names; a snapshot of format 3 gets a
	// pointer of format 3, which that reader refuses, as it would the
	// snapshot: it lists the remote instead.
	p := Pointer{Format: max(h.Format, FormatVersioned), Identity: s.identity, Current: name, Previous: old.Current, TakenAt: h.TakenAt, Objects: tr.Objects}
	if err := s.putPointer(ctx, p); err != nil {
		return Pointer{}, err
	}
	s.pointer, s.lastIndex = &p, st.AppliedIndex
	if old.Previous != "" && old.Previous != name && old.Previous != old.Current {
		if err := s.files.DeleteControlFile(ctx, old.Previous); err != nil {
			s.log.Warn().Err(err).Str("snapshot", old.Previous).Msg("old remote index snapshot not deleted")
		}
	}
	s.log.Info().Str("snapshot", name).Int64("objects", tr.Objects).Int64("bytes", size).Msg("remote index uploaded")
	return p, nil
}

// currentPointer is the pointer on the remote, read once per process; a
// missing or unreadable one counts as none.
func (s *Snapshotter) currentPointer(ctx context.Context) Pointer {
	if s.pointer != nil {
		return *s.pointer
	}
	var p Pointer
	rc, _, err := s.files.GetControlFile(ctx, PointerName)
	if err != nil {
		if !errors.Is(err, replication.ErrNotFound) {
			s.log.Warn().Err(err).Msg("remote index pointer not read: older snapshots may be left behind")
		}
		return p
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&p); err != nil || p.Format > FormatVersion {
		return Pointer{}
	}
	return p
}

func (s *Snapshotter) putPointer(ctx context.Context, p Pointer) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	sum := md5.Sum(b)
	if err := s.files.PutControlFile(ctx, PointerName, bytes.NewReader(b), int64(len(b)), sum[:]); err != nil {
		return fmt.Errorf("remoteindex: upload %s: %w", PointerName, err)
	}
	return nil
}
