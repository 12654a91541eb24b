package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// fanoutDirs remembers which fan-out directories have a durable entry in their
// parent, so that a Commit makes and fsyncs a directory once per run, without a
// store-wide lock held across the fsync (with a fresh store nearly every small blob
// lands in a new directory, and such a lock allowed one fsync at a time), and so
// that the mkdirs ride on the journal commit of the blob's own fsync.
type fanoutDirs struct {
	// durable has one bit per directory (second level: digest bytes 0 and 1;
	// first level: fanoutL1Base + byte 0), set once its entry is durable.
	durable [fanoutBits / 64]atomic.Uint64

	mu sync.Mutex
	// unsynced counts, per directory, the Commits that may have created it and not
	// yet fsynced its parent. A Commit that finds a directory existing trusts it
	// only when the count is zero: then it existed at Open (whose syncfs made it
	// durable) or its creator has fsynced the parent.
	unsynced map[int]int
}

// Fan-out directory counts; both are multiples of 64, the bitmap's word size.
const (
	fanoutL1Count = 256         // first-level directories, one per digest byte 0
	fanoutCount   = 256 * 256   // second-level directories, one per digest bytes 0-1
	fanoutL1Base  = fanoutCount // bit of first-level directory i: fanoutL1Base + i
	fanoutBits    = fanoutCount + fanoutL1Count
)

// fanoutPlan is what a Commit must still do for its fan-out directories once its
// blob is renamed into place: fsync the parents of the directories it created or
// found unsynced.
type fanoutPlan struct {
	n       int
	bits    [2]int
	parents [2]string
	created [2]bool
}

// reset forgets every directory, for Open: the data directory may have changed
// while the store was closed.
func (f *fanoutDirs) reset() {
	for i := range f.durable {
		f.durable[i].Store(0)
	}
	f.mu.Lock()
	f.unsynced = make(map[int]int)
	f.mu.Unlock()
}

func (f *fanoutDirs) isDurable(bit int) bool {
	return f.durable[bit/64].Load()&(1<<(bit%64)) != 0
}

func (f *fanoutDirs) markDurable(bit int) {
	f.durable[bit/64].Or(1 << (bit % 64))
}

// prepare makes dir exist and adds to p the fsync of parent when its entry may
// not be durable yet.
func (f *fanoutDirs) prepare(p *fanoutPlan, bit int, dir, parent string) error {
	if f.isDurable(bit) {
		return nil
	}
	// Counted before the mkdir, so that a Commit that sees the directory existing
	// in between also sees that its parent may need an fsync.
	f.mu.Lock()
	f.unsynced[bit]++
	f.mu.Unlock()
	err := os.Mkdir(dir, dirMode)
	if err == nil {
		p.bits[p.n], p.parents[p.n], p.created[p.n] = bit, parent, true
		p.n++
		return nil
	}
	f.mu.Lock()
	f.unsynced[bit]--
	others := f.unsynced[bit] > 0
	if !others {
		delete(f.unsynced, bit)
	}
	f.mu.Unlock()
	switch {
	case !errors.Is(err, fs.ErrExist):
		return err
	case others:
		p.bits[p.n], p.parents[p.n] = bit, parent
		p.n++
	default:
		f.markDurable(bit)
	}
	return nil
}

// finish fsyncs the parents p names. It must run once for every prepared plan,
// whether the Commit goes on or not, so that no directory is left created and
// unsynced with others trusting it.
func (f *fanoutDirs) finish(p fanoutPlan) error {
	for i := range p.n {
		if err := syncDir(p.parents[i]); err != nil {
			return err // the count stays up: later Commits fsync the parent themselves
		}
		f.mu.Lock()
		f.settleOne(p, i)
		f.mu.Unlock()
	}
	return nil
}

// settle is finish for a plan whose parents a syncfs(2) has made durable.
func (f *fanoutDirs) settle(p fanoutPlan) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range p.n {
		f.settleOne(p, i)
	}
}

// settleOne records that directory i of p has a durable entry. f.mu is held.
func (f *fanoutDirs) settleOne(p fanoutPlan, i int) {
	f.markDurable(p.bits[i])
	if p.created[i] {
		if f.unsynced[p.bits[i]]--; f.unsynced[p.bits[i]] <= 0 {
			delete(f.unsynced, p.bits[i])
		}
	}
}

// prepareFanout creates the fan-out directories of d. Their parents' fsyncs are
// left to finish, after the blob's rename: on a journaling filesystem they then
// cost no commit of their own.
func (s *Store) prepareFanout(d Digest) (fanoutPlan, error) {
	var p fanoutPlan
	dir := blobDir(s.blobs, d)
	l1 := filepath.Dir(dir)
	if err := s.fanout.prepare(&p, fanoutL1Base+int(d[0]), l1, s.blobs); err != nil {
		return p, err
	}
	err := s.fanout.prepare(&p, int(d[0])<<8|int(d[1]), dir, l1)
	return p, err
}
