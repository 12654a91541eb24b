package archive

import "testing"

// TestReadAheadKeepsBlocksOfAReadBehind checks which retained blocks a read
// ahead may drop when the budget is used: never one that another open read
// of the object, a little behind, will still ask for (it would fetch it
// again), but one of a read far behind, so that a slow client does not hold
// the others back.
func TestReadAheadKeepsBlocksOfAReadBehind(t *testing.T) {
	const version = "b/k\x00v1"
	fetch := func([]*blockFetch) {} // the test ends each fetch itself
	// run: the leader has taken blocks 0..5 (as many as the read-ahead limit,
	// the budget less one block per open read) and is done with them, so they
	// are retained; the laggard still wants the blocks from wantFrom on. The
	// leader then asks to read block at ahead. It reports whether it got the
	// block, and which of blocks 0..5 are still held.
	run := func(wantFrom, at int64) (got bool, held []int64) {
		g := newBlockGroup()
		g.budget = 8
		leader := &readCursor{version: version, last: 1000}
		laggard := &readCursor{version: version, last: 1000}
		g.open(leader)
		g.open(laggard)
		for i := int64(0); i < 6; i++ {
			for _, f := range g.pinBlocks(version, i, 1, true, fetch, leader) {
				g.done(f, make([]byte, 1), nil)
				g.unpin(f)
			}
		}
		laggard.next = wantFrom
		fs := g.pinBlocks(version, at, 1, false, fetch, leader)
		for i := int64(0); i < 6; i++ {
			if g.fetches[blockKey{version, i}] != nil {
				held = append(held, i)
			}
		}
		return len(fs) == 1, held
	}
	t.Run("a read a little behind keeps its blocks", func(t *testing.T) {
		got, held := run(0, 6)
		if got || len(held) != 6 {
			t.Fatalf("read ahead of block 6 with a read wanting blocks 0..5: got it %v, blocks 0..5 held %v; want no read-ahead and all held", got, held)
		}
	})
	t.Run("blocks no read wants go first", func(t *testing.T) {
		got, held := run(3, 6)
		if !got || len(held) != 5 || held[0] != 1 {
			t.Fatalf("read ahead with a read wanting blocks 3..5: got it %v, held %v; want it, dropping block 0 only", got, held)
		}
	})
	t.Run("a read far behind does not hold the others back", func(t *testing.T) {
		got, held := run(0, 6+MaxReadAhead+1)
		if !got || len(held) != 5 {
			t.Fatalf("read ahead of block %d with a read wanting blocks 0..5: got it %v, held %v; want it, dropping the oldest", 6+MaxReadAhead+1, got, held)
		}
	})
}
