package restore

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ipas/ipas/remoteindex"
)

// planFile is the list of objects to download, one JSON line each, written
// while planning so that memory does not grow with the number of objects and
// the totals are known before the first byte is fetched.
type planFile struct {
	path    string
	mu      sync.Mutex
	f       *os.File
	buf     *bufio.Writer
	enc     *json.Encoder
	objects int64
	bytes   int64
	buckets map[string]bool // buckets named by the plan (fallback: no snapshot)
}

func createPlan(path string) (*planFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("restore: create plan %s: %w", path, err)
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return &planFile{path: path, f: f, buf: buf, enc: enc, buckets: map[string]bool{}}, nil
}

func (p *planFile) add(o *remoteindex.Object) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enc.Encode(o); err != nil {
		return fmt.Errorf("restore: write plan %s: %w", p.path, err)
	}
	p.objects++
	p.bytes += o.Size
	p.buckets[o.Bucket] = true
	return nil
}

// finish flushes the plan and rewinds it for reading.
func (p *planFile) finish() error {
	if err := p.buf.Flush(); err != nil {
		return fmt.Errorf("restore: write plan %s: %w", p.path, err)
	}
	if _, err := p.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("restore: read plan %s: %w", p.path, err)
	}
	return nil
}

// each calls fn with every planned object, in plan order, until fn fails.
func (p *planFile) each(fn func(remoteindex.Object) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(p.f, 64<<10))
	for {
		var o remoteindex.Object
		err := dec.Decode(&o)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("restore: read plan %s: %w", p.path, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
}

// close removes the plan; it may be called more than once.
func (p *planFile) close() {
	if p.f != nil {
		p.f.Close()
		os.Remove(p.path)
		p.f = nil
	}
}
