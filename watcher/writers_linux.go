package watcher

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// errWriterOpen means another process holds the file open for writing.
var errWriterOpen = errors.New("file is open for writing")

// openIfClosed opens a file for ingest unless a writer holds it open: the last
// check before a file is read, which covers what no close-write event tells,
// such as a file that was being written when the daemon started.
func (w *Watcher) openIfClosed(p string) (*os.File, error) {
	f, err := openForIngest(p)
	if err != nil {
		return nil, err
	}
	if w.probeWriters && openForWriting(f) {
		f.Close()
		return nil, errWriterOpen
	}
	return f, nil
}

// openForWriting reports whether any process holds f's file open for writing,
// when the kernel can tell: a read lease (fcntl F_SETLEASE) is refused with
// EAGAIN exactly then, and is released at once. Taking one needs the file's
// owner or CAP_LEASE, and a filesystem with leases (not NFS or FUSE); without
// them it reports false, and the quiet window alone decides.
func openForWriting(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	rc.Control(func(fd uintptr) {
		_, err := unix.FcntlInt(fd, unix.F_SETLEASE, unix.F_RDLCK)
		switch {
		case err == nil:
			unix.FcntlInt(fd, unix.F_SETLEASE, unix.F_UNLCK)
		case errors.Is(err, unix.EAGAIN):
			open = true
		}
	})
	return open
}

// writerOpen waits for the writer of j to close its file.
func (w *Watcher) writerOpen(j job) result {
	j.f.log.Debug().Str("path", j.rel).Msg("still open for writing; waiting for its writer to close it")
	now := time.Now()
	return result{p: j.p, out: outNotQuiet, at: now, next: now.Add(j.f.cfg.QuietWindow)}
}

// logArchived writes the one info line of an archived file.
func (w *Watcher) logArchived(j job, bucket, key string, size int64, newVersion bool) {
	ev := j.f.log.Info().Str("path", j.rel).Str("bucket", bucket).Str("key", key).Int64("size", size)
	if !newVersion {
		ev.Msg("archived: unchanged content, no new version")
		return
	}
	ev.Msg("archived")
}
