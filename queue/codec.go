package queue

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The on-disk and in-log encoding is a tagged field list, close in spirit to
// protobuf's wire format: each field is uvarint(tag<<3 | wire) followed by a
// uvarint value (wireVarint) or a uvarint length and that many bytes
// (wireBytes). Zero values are omitted. A decoder skips tags it does not know,
// so new fields can be added to any record without breaking old logs or old
// databases; a tag's meaning never changes once written.
const (
	wireVarint = 0
	wireBytes  = 2
)

var errCorrupt = errors.New("corrupt record")

type encoder struct{ b []byte }

func (e *encoder) key(tag, wire int) {
	e.b = binary.AppendUvarint(e.b, uint64(tag)<<3|uint64(wire))
}

func (e *encoder) uint(tag int, v uint64) {
	if v == 0 {
		return
	}
	e.key(tag, wireVarint)
	e.b = binary.AppendUvarint(e.b, v)
}

func (e *encoder) int(tag int, v int64) {
	e.uint(tag, uint64(v<<1)^uint64(v>>63))
}

func (e *encoder) bytes(tag int, v []byte) {
	if len(v) == 0 {
		return
	}
	e.key(tag, wireBytes)
	e.b = binary.AppendUvarint(e.b, uint64(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) str(tag int, v string) {
	if v == "" {
		return
	}
	e.key(tag, wireBytes)
	e.b = binary.AppendUvarint(e.b, uint64(len(v)))
	e.b = append(e.b, v...)
}

// time stores nanoseconds since the epoch; the location is not kept (UTC on
// decode).
func (e *encoder) time(tag int, t time.Time) {
	if t.IsZero() {
		return
	}
	e.int(tag, t.UnixNano())
}

// hex stores lowercase hex strings as raw bytes under tagRaw (half the size),
// anything else verbatim under tagStr.
func (e *encoder) hex(tagRaw, tagStr int, s string) {
	if s == "" {
		return
	}
	if isLowerHex(s) {
		e.key(tagRaw, wireBytes)
		e.b = binary.AppendUvarint(e.b, uint64(len(s)/2))
		e.b, _ = hex.AppendDecode(e.b, []byte(s))
		return
	}
	e.str(tagStr, s)
}

// strMap stores each pair as a nested record {1: key, 2: value}, keys
// sorted so that equal maps encode to equal bytes.
func (e *encoder) strMap(tag int, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var p encoder
		p.str(1, k)
		p.str(2, m[k])
		e.key(tag, wireBytes)
		e.b = binary.AppendUvarint(e.b, uint64(len(p.b)))
		e.b = append(e.b, p.b...)
	}
}

func isLowerHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// decoder walks a field list: for d.next() { switch d.tag { ... } }, then
// check d.err. Values are read with the typed accessors; unread fields are
// skipped.
type decoder struct {
	b    []byte
	tag  int
	wire int
	u    uint64 // value of a varint field
	v    []byte // value of a bytes field (aliases b)
	err  error
}

func (d *decoder) next() bool {
	if d.err != nil || len(d.b) == 0 {
		return false
	}
	k, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return false
	}
	d.b = d.b[n:]
	d.tag, d.wire = int(k>>3), int(k&7)
	switch d.wire {
	case wireVarint:
		d.u, n = binary.Uvarint(d.b)
		if n <= 0 {
			d.err = errCorrupt
			return false
		}
		d.b = d.b[n:]
	case wireBytes:
		l, n := binary.Uvarint(d.b)
		if n <= 0 || l > uint64(len(d.b)-n) {
			d.err = errCorrupt
			return false
		}
		d.v = d.b[n : n+int(l)]
		d.b = d.b[n+int(l):]
	default:
		d.err = fmt.Errorf("%w: wire type %d", errCorrupt, d.wire)
		return false
	}
	return true
}

func (d *decoder) uint() uint64 { return d.u }
func (d *decoder) int() int64   { return int64(d.u>>1) ^ -int64(d.u&1) }
func (d *decoder) str() string  { return string(d.v) }
func (d *decoder) hex() string  { return hex.EncodeToString(d.v) }
func (d *decoder) time() time.Time {
	return time.Unix(0, d.int()).UTC()
}

func (d *decoder) bytesCopy() []byte { return slices.Clone(d.v) }

// mapEntry adds the current nested {1: key, 2: value} field to *m.
func (d *decoder) mapEntry(m *map[string]string) {
	var k, v string
	p := decoder{b: d.v}
	for p.next() {
		switch p.tag {
		case 1:
			k = p.str()
		case 2:
			v = p.str()
		}
	}
	if p.err != nil {
		d.err = p.err
		return
	}
	if *m == nil {
		*m = make(map[string]string)
	}
	(*m)[k] = v
}
