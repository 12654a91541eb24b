package watcher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// watchMask is what a directory watch reports: every change to a name or to a
// file's content or attributes, and the close of a file that was open for
// writing, which is what tells a paused writer from a finished one.
const watchMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
	unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_MOVE_SELF |
	unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK

// errOverflow means the kernel's event queue overflowed: events were lost.
var errOverflow = errors.New("inotify: event queue overflow")

// event is one inotify event: the path it names and the kernel's mask.
type event struct {
	name string
	mask uint32
}

func (e event) has(bits uint32) bool { return e.mask&bits != 0 }

// gone reports whether the path was removed or renamed away.
func (e event) gone() bool {
	return e.has(unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVED_FROM | unix.IN_MOVE_SELF)
}

// notifier is one inotify instance with a watch per directory. It is ours rather
// than fsnotify's because fsnotify does not export IN_CLOSE_WRITE, and a second
// instance for that one event would double the watches (a Pi's
// fs.inotify.max_user_watches is the limit of how big a tree can be watched) and
// lose the kernel's ordering between a file's last write and its close.
type notifier struct {
	file   *os.File
	events chan event
	errors chan error
	stop   chan struct{}
	exited chan struct{}

	mu     sync.Mutex
	byWD   map[int32]string
	byPath map[string]int32
}

// newNotifier opens an inotify instance whose events channel holds buffer events.
func newNotifier(buffer int) (*notifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: init: %w", err)
	}
	n := &notifier{
		// A non-blocking descriptor goes to the runtime's poller: Close wakes the reader.
		file:   os.NewFile(uintptr(fd), "inotify"),
		events: make(chan event, buffer),
		errors: make(chan error, 1),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
		byWD:   make(map[int32]string),
		byPath: make(map[string]int32),
	}
	go n.read()
	return n, nil
}

// add watches the directory dir. The watch limit is reported as ENOSPC.
func (n *notifier) add(dir string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var wd int
	err := n.control(func(fd int) (err error) {
		wd, err = unix.InotifyAddWatch(fd, dir, watchMask)
		return err
	})
	if err != nil {
		return fmt.Errorf("inotify: watch %s: %w", dir, err)
	}
	// The same directory reached under a new name (renamed) keeps its descriptor.
	if old, ok := n.byWD[int32(wd)]; ok {
		delete(n.byPath, old)
	}
	n.byWD[int32(wd)] = dir
	n.byPath[dir] = int32(wd)
	return nil
}

// remove drops the watch of dir; the kernel may have dropped it already.
func (n *notifier) remove(dir string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	wd, ok := n.byPath[dir]
	if !ok {
		return
	}
	delete(n.byPath, dir)
	delete(n.byWD, wd)
	n.control(func(fd int) error {
		_, err := unix.InotifyRmWatch(fd, uint32(wd))
		return err
	})
}

func (n *notifier) control(op func(fd int) error) error {
	rc, err := n.file.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = op(int(fd)) }); err != nil {
		return err
	}
	return opErr
}

// close stops the reader and releases the instance and its watches.
func (n *notifier) close() error {
	close(n.stop)
	err := n.file.Close()
	<-n.exited
	if err != nil {
		return fmt.Errorf("inotify: close: %w", err)
	}
	return nil
}

// read turns what the kernel reports into events, in the kernel's order, until
// close.
func (n *notifier) read() {
	defer close(n.exited)
	buf := make([]byte, 64<<10) // room for at least one event with the longest name
	for {
		k, err := n.file.Read(buf)
		if errors.Is(err, os.ErrClosed) {
			return
		}
		if err != nil {
			if !n.sendError(fmt.Errorf("inotify: read: %w", err)) {
				return
			}
			continue
		}
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			wd := int32(binary.NativeEndian.Uint32(buf[off:]))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			size := int(binary.NativeEndian.Uint32(buf[off+12:]))
			if off+unix.SizeofInotifyEvent+size > k {
				break // the kernel never splits an event; this is not one
			}
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+size]), "\x00")
			off += unix.SizeofInotifyEvent + size
			if mask&unix.IN_Q_OVERFLOW != 0 {
				if !n.sendError(errOverflow) {
					return
				}
				continue
			}
			ev, ok := n.resolve(wd, mask, name)
			if ok && !n.send(ev) {
				return
			}
		}
	}
}

// resolve names the path of an event and forgets watches the kernel dropped.
func (n *notifier) resolve(wd int32, mask uint32, name string) (event, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	dir, ok := n.byWD[wd]
	if !ok {
		return event{}, false // removed meanwhile
	}
	if mask&unix.IN_IGNORED != 0 {
		delete(n.byWD, wd)
		if n.byPath[dir] == wd {
			delete(n.byPath, dir)
		}
		return event{}, false
	}
	if name == "" {
		return event{name: dir, mask: mask}, true
	}
	return event{name: dir + "/" + name, mask: mask}, true
}

func (n *notifier) send(ev event) bool {
	select {
	case n.events <- ev:
		return true
	case <-n.stop:
		return false
	}
}

func (n *notifier) sendError(err error) bool {
	select {
	case n.errors <- err:
		return true
	case <-n.stop:
		return false
	}
}
