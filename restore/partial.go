package restore

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/ipas/ipas/remoteindex"
)

// A partial object is a directory under StateDir/partial, named after the
// object, with meta.json (which remote version it is, and its layout), one
// data file per part (part-N: the part's bytes at their offsets, holes where
// ranges are missing; a single-part object has one) and done (the index of
// each finished range, one per line, written only once the range's bytes
// are fsynced). Ranges never cross a part's end, so that once verified each
// part file is renamed into the store as its blob (Blobs.Adopt) instead of
// copied. A kill loses at most the ranges in flight, and the parts already
// adopted when it came between adoption and the journal.
const (
	partialMetaFile = "meta.json"
	partialDoneFile = "done"
	// partialLayout numbers the layout above; a partial object of another
	// layout starts over.
	partialLayout = 2
)

type partialMeta struct {
	Layout     int     `json:"layout"`
	Name       string  `json:"name"`
	RemoteETag string  `json:"remote_etag"`
	SHA256     string  `json:"sha256"`
	Size       int64   `json:"size"`
	RangeSize  int64   `json:"range_size"`
	PartSizes  []int64 `json:"part_sizes,omitempty"`
}

func (m *partialMeta) equal(o *partialMeta) bool {
	return m.Layout == o.Layout && m.Name == o.Name && m.RemoteETag == o.RemoteETag && m.SHA256 == o.SHA256 &&
		m.Size == o.Size && m.RangeSize == o.RangeSize && slices.Equal(m.PartSizes, o.PartSizes)
}

// span is one range of a partial object: bytes [off, off+length) of part.
type span struct {
	part        int
	off, length int64
}

type partial struct {
	dir    string
	meta   partialMeta
	parts  []int64 // part sizes; one part for a single-part object
	ranges []span
	first  []int // the index of each part's first range in ranges, and len(ranges)
	mu     sync.Mutex
	doneF  *os.File
	done   []bool
	whole  []byte // a multipart object's SHA-256, once hashParts read it
}

// offset returns where range sp starts in the object.
func (p *partial) offset(sp span) int64 {
	var off int64
	for _, size := range p.parts[:sp.part] {
		off += size
	}
	return off + sp.off
}

func partialPath(stateDir, name string) string {
	h := sha256.Sum256([]byte(name))
	return filepath.Join(stateDir, partialDir, hex.EncodeToString(h[:16]))
}

// openPartial opens o's partial object, keeping the finished ranges of an
// earlier run if it was fetching the same remote version with the same range
// size, and starting over otherwise.
func openPartial(stateDir string, o *remoteindex.Object, rangeSize int64) (*partial, error) {
	p := &partial{dir: partialPath(stateDir, partialName(o)), meta: partialMeta{
		Layout: partialLayout, Name: o.Name(), RemoteETag: o.Remote.ETag, SHA256: o.SHA256, Size: o.Size,
		RangeSize: rangeSize, PartSizes: o.PartSizes,
	}}
	p.parts = o.PartSizes
	if len(p.parts) == 0 {
		p.parts = []int64{o.Size}
	}
	for i, size := range p.parts {
		p.first = append(p.first, len(p.ranges))
		for off := int64(0); off < size; off += rangeSize {
			p.ranges = append(p.ranges, span{part: i, off: off, length: min(rangeSize, size-off)})
		}
	}
	p.first = append(p.first, len(p.ranges))
	p.done = make([]bool, len(p.ranges))
	var old partialMeta
	if b, err := os.ReadFile(filepath.Join(p.dir, partialMetaFile)); err != nil || json.Unmarshal(b, &old) != nil || !old.equal(&p.meta) {
		if err := p.create(); err != nil {
			return nil, err
		}
	} else if err := p.loadDone(); err != nil {
		return nil, err
	}
	var err error
	if p.doneF, err = os.OpenFile(filepath.Join(p.dir, partialDoneFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("restore: open partial %s: %w", p.dir, err)
	}
	return p, nil
}

// partFile is the path of part i's data file.
func (p *partial) partFile(i int) string {
	return filepath.Join(p.dir, "part-"+strconv.Itoa(i))
}

func (p *partial) create() error {
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("restore: clear partial %s: %w", p.dir, err)
	}
	if err := os.MkdirAll(p.dir, 0o750); err != nil {
		return fmt.Errorf("restore: create partial %s: %w", p.dir, noSpace(err))
	}
	b, _ := json.Marshal(p.meta)
	if err := os.WriteFile(filepath.Join(p.dir, partialMetaFile), b, 0o600); err != nil {
		return fmt.Errorf("restore: create partial %s: %w", p.dir, noSpace(err))
	}
	return nil
}

// loadDone reads the finished ranges; a torn last line is ignored.
func (p *partial) loadDone() error {
	f, err := os.Open(filepath.Join(p.dir, partialDoneFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: read partial %s: %w", p.dir, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		i, err := strconv.Atoi(sc.Text())
		if err == nil && i >= 0 && i < len(p.done) {
			p.done[i] = true
		}
	}
	// A part file that is gone was adopted into the store before a kill:
	// its ranges are fetched again (its blob, unreferenced, is collected).
	for i, sp := range p.ranges {
		if p.done[i] {
			if info, err := os.Stat(p.partFile(sp.part)); err != nil || info.Size() < sp.off+sp.length {
				p.done[i] = false
			}
		}
	}
	return nil
}

// missing lists the ranges still to fetch.
func (p *partial) missing() []int {
	var out []int
	for i, d := range p.done {
		if !d {
			out = append(out, i)
		}
	}
	return out
}

// isDone reports whether range i is on disk.
func (p *partial) isDone(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done[i]
}

// markDone records range i once its bytes are on disk.
func (p *partial) markDone(i int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.doneF.WriteString(strconv.Itoa(i) + "\n"); err != nil {
		return fmt.Errorf("restore: record range %d of %s: %w", i, p.dir, noSpace(err))
	}
	if err := p.doneF.Sync(); err != nil {
		return fmt.Errorf("restore: record range %d of %s: %w", i, p.dir, noSpace(err))
	}
	p.done[i] = true
	return nil
}

func (p *partial) close() {
	p.doneF.Close()
}

// removePartial deletes o's partial object, if any.
func removePartial(stateDir, name string) {
	os.RemoveAll(partialPath(stateDir, name))
}
