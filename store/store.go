package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Defaults for the Store's exported tunables.
const (
	// DefaultBufferSize is the size of one chunk a Writer hashes and writes at a time.
	// 256 KiB chunks run as fast as 1 MiB ones (storebench, 512 MiB from a
	// page-cached file: 345-363 MB/s either way) and cut the memory of each Writer
	// in flight from 4 MiB to 1 MiB, which matters with several uploads at once.
	DefaultBufferSize = 256 << 10
	// DefaultBuffers is how many chunks one Writer may have in flight between the
	// caller and its hashing and writing goroutines; DefaultBuffers*DefaultBufferSize
	// bounds the memory of a Put whatever the blob's size.
	DefaultBuffers = 4
	// DefaultWritebackStep is how many bytes a Writer writes before asking the kernel
	// to start writing them to disk (sync_file_range) instead of leaving it all to
	// the kernel's flusher and the fsync in Commit. Off by default: on the 2-core test
	// VM, where hashing is the bottleneck, starting writeback from the writer cost
	// more CPU than the shorter fsync saved (storebench medians: 340 MB/s with 16 MiB
	// steps, 410 MB/s without). Worth measuring again on a Pi's SD card.
	DefaultWritebackStep = 0
	// DefaultTempMaxAge is how old a temp file that no live Writer owns must be before
	// Collect removes it. Open removes all of them regardless: no Writer survives a restart.
	DefaultTempMaxAge = time.Hour
	// DefaultCollectInterval is how often RunCollector runs Collect.
	DefaultCollectInterval = time.Hour
)

// File modes. Committed blobs are read-only so that a stray write from another
// program is refused instead of silently corrupting content-addressed data.
// Everything is owner-only, whatever the umask (os.Mkdir and OpenFile only
// take bits away) and the parent directory's mode: backups are private.
const (
	blobMode = 0o400
	tempMode = 0o600
	dirMode  = 0o700
)

// Store keeps blobs under one data directory. Create it with New, adjust the exported
// tunables, then call Open. All methods are safe for concurrent use.
type Store struct {
	// BufferSize is the chunk size a Writer hashes and writes at a time.
	BufferSize int
	// Buffers is the number of chunks a Writer may have in flight (at least 1).
	Buffers int
	// WritebackStep is the number of bytes after which a Writer starts writeback of
	// what it wrote; 0 leaves all writeback to the kernel and the final fsync.
	WritebackStep int64
	// TempMaxAge is the minimum age of an orphaned temp file before Collect removes it.
	TempMaxAge time.Duration
	// CollectInterval is the period of RunCollector.
	CollectInterval time.Duration
	// MaxStaged is how many staged blobs may wait to become durable before
	// Stage waits (stage.go).
	MaxStaged int
	// Logger receives the store's log lines.
	Logger zerolog.Logger

	dir   string
	blobs string
	tmp   string

	mu         sync.Mutex
	open       bool
	closed     chan struct{} // closed by Close; stops RunCollector
	kick       chan struct{} // CollectSoon: RunCollector collects now
	lock       *os.File
	pins       map[Digest]int      // digests committed but not yet released by Unpin
	collecting int                 // Collect calls in progress
	touched    map[Digest]struct{} // digests pinned since the oldest of them began
	lastMarked int                 // references the last mark reported; sizes the next filter
	committing map[Digest]*commit  // digests with a rename in progress
	temps      map[string]struct{} // base names of temp files owned by live Writers

	staged       map[Digest]*stagedBlob // blobs readable but not yet durable (stage.go)
	stageSeq     uint64                 // blobs staged since Open
	stageWaiting int                    // staged blobs no syncer owns yet
	stageChanged chan struct{}          // closed and replaced whenever a staged blob settles
	stageSlots   chan struct{}          // one token per staged blob: MaxStaged
	batchMu      sync.Mutex             // one batch of staged blobs is synced at a time
	syncers      sync.WaitGroup         // syncStaged goroutines

	fanout fanoutDirs // fan-out directories whose entries are durable

	chunks chunkPool // chunks of BufferSize bytes

	// Hooks replaced by tests to inject failures.
	writeProbe func(dir string) error
	fileWrite  func(f *os.File, p []byte) (int, error)
	syncfs     func() error // syncfs(2) of the store's filesystem, for staged blobs
}

// New returns a Store for dir with default tunables. It touches nothing on disk until Open.
func New(dir string, log zerolog.Logger) *Store {
	s := &Store{
		BufferSize:      DefaultBufferSize,
		Buffers:         DefaultBuffers,
		WritebackStep:   DefaultWritebackStep,
		TempMaxAge:      DefaultTempMaxAge,
		CollectInterval: DefaultCollectInterval,
		MaxStaged:       DefaultMaxStaged,
		Logger:          log.With().Str("component", "store").Logger(),
		dir:             dir,
		blobs:           filepath.Join(dir, blobsDirName),
		tmp:             filepath.Join(dir, tmpDirName),
		writeProbe:      probeWritable,
		fileWrite:       (*os.File).Write,
	}
	s.chunks.reset(DefaultBufferSize, chunkPoolIdle*DefaultBuffers)
	s.syncfs = s.syncFilesystem
	return s
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Open creates the layout, locks the data directory, checks that it is really writable,
// makes whatever a previous run left durable, and removes that run's temp files.
func (s *Store) Open(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: open %s: %w", s.dir, err)
	}
	if s.BufferSize <= 0 || s.Buffers <= 0 || s.MaxStaged <= 0 {
		return fmt.Errorf("store: open %s: BufferSize (%d), Buffers (%d) and MaxStaged (%d) must be positive; "+
			"fix: leave them at their defaults", s.dir, s.BufferSize, s.Buffers, s.MaxStaged)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		return fmt.Errorf("store: open %s: already open", s.dir)
	}
	if err := os.MkdirAll(s.dir, dirMode); err != nil {
		return s.notWritable(err)
	}
	// A store created by a version that made it 0755 becomes private too: its
	// root's mode guards everything under it.
	if err := os.Chmod(s.dir, dirMode); err != nil {
		return s.notWritable(err)
	}
	for _, d := range []string{s.blobs, s.tmp} {
		if err := mkdirSynced(d, s.dir); err != nil {
			return s.notWritable(err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(s.dir, lockFileName), os.O_RDWR|os.O_CREATE, tempMode)
	if err != nil {
		return s.notWritable(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("store: open %s: %w; fix: stop the other ipas process using it, "+
				"or give this one its own data directory", s.dir, ErrLocked)
		}
		return fmt.Errorf("store: open %s: lock: %w", s.dir, err)
	}
	if err := s.writeProbe(s.tmp); isNoSpace(err) {
		// A full disk is writable: reads are served, and deletes free space.
		s.Logger.Warn().Err(err).Msg("the data directory's disk is full: new objects are refused until space is freed")
	} else if err != nil {
		lock.Close()
		return s.notWritable(err)
	}
	// A previous process may have died between a rename and its directory fsync, or
	// between a mkdir and the fsync of its parent. Its files are still in the page
	// cache; syncfs makes them durable before we treat them as committed.
	if err := unix.Syncfs(int(lock.Fd())); err != nil {
		lock.Close()
		return fmt.Errorf("store: open %s: syncfs: %w", s.dir, err)
	}
	removed, err := removeAllTemps(s.tmp)
	if err != nil {
		lock.Close()
		return fmt.Errorf("store: open %s: remove leftover temp files: %w", s.dir, err)
	}
	if removed > 0 {
		s.Logger.Info().Int("temp_files", removed).Msg("removed temp files left by a previous run")
	}
	if err := makeStagingDirs(filepath.Join(s.tmp, stagingDirName)); err != nil {
		lock.Close()
		return s.notWritable(err)
	}
	s.lock = lock
	s.open = true
	s.closed = make(chan struct{})
	s.pins = make(map[Digest]int)
	s.committing = make(map[Digest]*commit)
	s.temps = make(map[string]struct{})
	s.staged = make(map[Digest]*stagedBlob)
	s.stageChanged = make(chan struct{})
	s.kick = make(chan struct{}, 1)
	s.stageSlots = make(chan struct{}, s.MaxStaged)
	s.fanout.reset()
	s.chunks.reset(s.BufferSize, chunkPoolIdle*s.Buffers)
	return nil
}

// Close releases the data directory, once every staged blob is durable. Writers
// must be committed or aborted first.
func (s *Store) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return nil
	}
	s.open = false
	close(s.closed)
	// No Stage starts a syncer once open is false; a clean shutdown leaves no
	// blob for the journal's replay to restore.
	s.startSyncsLocked()
	s.mu.Unlock()
	s.syncers.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.temps) > 0 {
		s.Logger.Warn().Int("writers", len(s.temps)).Msg("closing with writers still open")
	}
	// Unmap the idle chunks; those of writers still open are unmapped as they finish.
	s.chunks.reset(s.BufferSize, chunkPoolIdle*s.Buffers)
	err := s.lock.Close() // closing the descriptor releases the flock
	s.lock = nil
	if err != nil {
		return fmt.Errorf("store: close %s: %w", s.dir, err)
	}
	return nil
}

// Unpin releases one pin taken by Commit or Put, once the caller has journaled a
// reference to the blob (or given up on it). Collect may then delete the blob if
// nothing references it.
func (s *Store) Unpin(d Digest) {
	s.mu.Lock()
	n := s.pins[d]
	if n <= 1 {
		delete(s.pins, d)
	} else {
		s.pins[d] = n - 1
	}
	s.mu.Unlock()
	if n == 0 {
		s.Logger.Warn().Str("digest", d.String()).Msg("unpin of a digest that is not pinned")
	}
}

// Has reports whether a committed, durable blob with digest d exists.
func (s *Store) Has(d Digest) (bool, error) {
	if !s.visible(d) {
		return false, nil
	}
	_, err := os.Lstat(blobPath(s.blobs, d))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: has blob %s: %w", d, err)
	}
	return true, nil
}

// Pin protects a committed blob from Collect until Unpin, as Commit does for the
// blob it writes: a caller that journals a new reference to a blob it did not write
// (a server-side copy) holds a pin until the reference is journaled. It returns
// ErrNotFound if no durable blob has d (a concurrent delete won the race).
func (s *Store) Pin(d Digest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return fmt.Errorf("store: pin %s: %w", d, ErrClosed)
	}
	if st := s.staged[d]; st != nil && st.err == nil {
		s.pinLocked(d)
		return nil
	}
	if c := s.committing[d]; c != nil && !c.durable {
		return fmt.Errorf("store: pin %s: %w", d, ErrNotFound)
	}
	if _, err := os.Lstat(blobPath(s.blobs, d)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: pin %s: %w", d, ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("store: pin %s: %w", d, err)
	}
	s.pinLocked(d)
	return nil
}

// commit tracks the Writers renaming one digest into place at the same time.
type commit struct {
	writers int  // renames in progress
	durable bool // one of them has fsynced the directory since the first started
}

// visible is false while a first rename of d has not been followed by a directory
// fsync: such a blob is not durable yet and must not be served or reported. Once one
// rename is durable, later renames of the same content over it change nothing a
// reader or a crash could notice.
func (s *Store) visible(d Digest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.committing[d]
	return c == nil || c.durable
}

func (s *Store) notWritable(err error) error {
	uid := os.Getuid()
	return fmt.Errorf("store: open %s: %w: %w; fix: make %s a directory that user %d can write "+
		"(for example: mkdir -p %s && chown -R %d %s), or configure another data directory",
		s.dir, ErrNotWritable, wrapNoSpace(err), s.dir, uid, s.dir, uid, s.dir)
}

// probeWritable proves that dir accepts a durable write. Permission bits alone say
// nothing when running as root or on a read-only mount, so it writes for real.
func probeWritable(dir string) error {
	name := filepath.Join(dir, "write-probe"+tempSuffix)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, tempMode)
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte{0})
	serr := f.Sync()
	cerr := f.Close()
	rerr := os.Remove(name)
	return errors.Join(werr, serr, cerr, rerr)
}

// removeAllTemps removes every file in the temp directory; used at Open, when no
// Writer can own one.
func removeAllTemps(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// newTempName returns a fresh random temp file base name.
func newTempName() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]) + tempSuffix, nil
}

// mkdirSynced creates dir if missing and fsyncs parent so the new entry survives a crash.
func mkdirSynced(dir, parent string) error {
	err := os.Mkdir(dir, dirMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(parent)
}

// syncDir fsyncs a directory, making the entries created or renamed in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
