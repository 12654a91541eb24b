package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// reserveFile is the preallocated file in the raft directory that holds
// back space for the journal (see reserve).
const reserveFile = "reserve"

// DefaultReserveCheckInterval is how often a node whose reserve is released
// checks whether space has come back.
const DefaultReserveCheckInterval = time.Second

// reserve is a preallocated file that keeps space for the journal on a
// full disk. When the raft log or fsm.db cannot write for lack of space,
// the file is removed, so that the commit (of a delete, say, which is how
// the user frees space) goes through; from then on the node refuses the
// commands that add data (ErrNoSpace) until the file system has room for
// the reserve again, when it is re-created and writes resume.
type reserve struct {
	path string
	size int64
	log  zerolog.Logger

	mu       sync.Mutex
	released bool
	since    time.Time
}

func newReserve(dir string, size int64, log zerolog.Logger) *reserve {
	return &reserve{path: filepath.Join(dir, reserveFile), size: size, log: log}
}

// open keeps the reserve if it is whole; otherwise it creates it when the
// file system has room for it (RoomForReserve), and starts released when
// it has not (a daemon that starts on a full disk serves reads). A reserve
// is also released when the disk is full at start: raft writes its term
// when it elects itself.
func (r *reserve) open() error {
	if r.size == 0 {
		return nil
	}
	free, err := freeBytes(filepath.Dir(r.path))
	if err != nil {
		return fmt.Errorf("queue: reserve: %w", err)
	}
	if st, err := os.Stat(r.path); err == nil && st.Size() == r.size {
		if free < r.size/4 {
			r.release("the disk is full at start")
		}
		return nil
	}
	if free < RoomForReserve(r.size) {
		r.mu.Lock()
		r.released, r.since = true, time.Now()
		r.mu.Unlock()
		os.Remove(r.path)
		r.log.Warn().Int64("free_bytes", free).Int64("reserve_bytes", r.size).
			Msg("the disk is full: writes answer 507 until space is freed; reads and deletes work")
		return nil
	}
	return r.create()
}

// create preallocates the reserve file and makes it durable.
func (r *reserve) create() error {
	tmp := r.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, ownerFileMode)
	if err != nil {
		return fmt.Errorf("queue: reserve: %w", err)
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, r.size)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		err = f.Truncate(r.size) // no preallocation here: a sparse file still names the size
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(r.path))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("queue: reserve %s: %w", r.path, err)
	}
	return nil
}

// release removes the reserve file, giving its space to the journal, and
// reports whether there was one to remove.
func (r *reserve) release(why string) bool {
	if r == nil || r.size == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.released {
		return false
	}
	r.released, r.since = true, time.Now()
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.log.Error().Err(err).Msg("release the journal's reserve")
	}
	r.log.Warn().Str("reason", why).Int64("reserve_bytes", r.size).
		Msg("the disk is full: released the journal's reserve; writes answer 507 until space is freed; reads and deletes work")
	return true
}

// check returns ErrNoSpace while the reserve is released.
func (r *reserve) check() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.released {
		return nil
	}
	return ErrNoSpace
}

// restore re-creates a released reserve once the file system has room for
// it (RoomForReserve), and reports whether the reserve is in place.
func (r *reserve) restore() bool {
	r.mu.Lock()
	released := r.released
	r.mu.Unlock()
	if !released {
		return true
	}
	if free, err := freeBytes(filepath.Dir(r.path)); err != nil || free < RoomForReserve(r.size) {
		return false
	}
	if err := r.create(); err != nil {
		if !isNoSpace(err) {
			r.log.Error().Err(err).Msg("re-create the journal's reserve")
		}
		return false
	}
	r.mu.Lock()
	since := r.since
	r.released = false
	r.mu.Unlock()
	r.log.Info().Dur("full_for", time.Since(since)).Msg("space is back: re-created the journal's reserve; writes are accepted again")
	return true
}

// RoomForReserve is the free space at which a released reserve of size
// bytes is re-created (and a new one created at start): the reserve and a
// quarter of it again, so that writes resume with room to spare.
func RoomForReserve(size int64) int64 { return size + size/4 }

// freeBytes is the space available to this process on dir's file system.
func freeBytes(dir string) (int64, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(fs.Bavail) * int64(fs.Bsize), nil
}

// isNoSpace reports whether err is a file system telling us it is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// watchSpace runs while the node is open: every ReserveCheckInterval it
// retries a state machine commit that failed for lack of space, and
// re-creates a released reserve once there is room.
func (n *Node) watchSpace() {
	defer n.bg.Done()
	interval := n.cfg.ReserveCheckInterval
	if interval <= 0 {
		interval = DefaultReserveCheckInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		if n.fsm.pausedNoSpace() {
			if err := n.fsm.recoverNoSpace(n.fsm.delivered.Load()); err != nil {
				continue
			}
		}
		if n.reserve.check() != nil {
			n.reserve.restore()
		}
	}
}

// SpaceError reports, without a disk access, whether the node refuses the
// commands that add data because the disk is full: ErrNoSpace, or nil.
func (n *Node) SpaceError() error {
	return n.reserve.check()
}
