package restore

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/ipas/ipas/remoteindex"
)

// A partial object is a directory under StateDir/partial, named after the
// object, with three files: meta.json (which remote version it is), data (the
// object's bytes at their offsets, holes where ranges are missing) and done
// (the index of each finished range, one per line, written only once the
// range's bytes are fsynced). A kill loses at most the ranges in flight.
const (
	partialMetaFile = "meta.json"
	partialDataFile = "data"
	partialDoneFile = "done"
)

type partialMeta struct {
	Name       string `json:"name"`
	RemoteETag string `json:"remote_etag"`
	SHA256     string `json:"sha256"`
	Size       int64  `json:"size"`
	RangeSize  int64  `json:"range_size"`
}

type partial struct {
	dir   string
	meta  partialMeta
	data  *os.File
	mu    sync.Mutex
	doneF *os.File
	done  []bool
}

func partialPath(stateDir, name string) string {
	h := sha256.Sum256([]byte(name))
	return filepath.Join(stateDir, partialDir, hex.EncodeToString(h[:16]))
}

// openPartial opens o's partial object, keeping the finished ranges of an
// earlier run if it was fetching the same remote version with the same range
// size, and starting over otherwise.
func openPartial(stateDir string, o *remoteindex.Object, rangeSize int64) (*partial, error) {
	p := &partial{dir: partialPath(stateDir, o.Name()), meta: partialMeta{
		Name: o.Name(), RemoteETag: o.Remote.ETag, SHA256: o.SHA256, Size: o.Size, RangeSize: rangeSize,
	}}
	p.done = make([]bool, (o.Size+rangeSize-1)/rangeSize)
	var old partialMeta
	if b, err := os.ReadFile(filepath.Join(p.dir, partialMetaFile)); err != nil || json.Unmarshal(b, &old) != nil || old != p.meta {
		if err := p.create(); err != nil {
			return nil, err
		}
	} else if err := p.loadDone(); err != nil {
		return nil, err
	}
	var err error
	if p.data, err = os.OpenFile(filepath.Join(p.dir, partialDataFile), os.O_RDWR, 0o600); err != nil {
		return nil, fmt.Errorf("restore: open partial %s: %w", p.dir, err)
	}
	if p.doneF, err = os.OpenFile(filepath.Join(p.dir, partialDoneFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		p.data.Close()
		return nil, fmt.Errorf("restore: open partial %s: %w", p.dir, err)
	}
	return p, nil
}

func (p *partial) create() error {
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("restore: clear partial %s: %w", p.dir, err)
	}
	if err := os.MkdirAll(p.dir, 0o750); err != nil {
		return fmt.Errorf("restore: create partial %s: %w", p.dir, noSpace(err))
	}
	f, err := os.OpenFile(filepath.Join(p.dir, partialDataFile), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("restore: create partial %s: %w", p.dir, noSpace(err))
	}
	err = f.Truncate(p.meta.Size) // sparse: the disk fills as ranges arrive
	f.Close()
	if err != nil {
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

// bounds returns range i's offset and length.
func (p *partial) bounds(i int) (off, length int64) {
	off = int64(i) * p.meta.RangeSize
	return off, min(p.meta.RangeSize, p.meta.Size-off)
}

// markDone records range i once its bytes are on disk.
func (p *partial) markDone(i int) error {
	if err := p.data.Sync(); err != nil {
		return fmt.Errorf("restore: sync partial %s: %w", p.dir, noSpace(err))
	}
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
	p.data.Close()
	p.doneF.Close()
}

// removePartial deletes o's partial object, if any.
func removePartial(stateDir, name string) {
	os.RemoveAll(partialPath(stateDir, name))
}
