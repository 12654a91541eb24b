package queue

import (
	"encoding/binary"
	"fmt"
	"time"
)

// cmdOp identifies a command type. Values are in the raft log forever: never
// renumber, never change what an existing one does; add new ones.
type cmdOp uint8

const (
	opBucketCreate cmdOp = 1
	opBucketDelete cmdOp = 2
	opObjectPut    cmdOp = 3
	opObjectDelete cmdOp = 4
	opJobDone      cmdOp = 5
)

func (o cmdOp) String() string {
	switch o {
	case opBucketCreate:
		return "BucketCreate"
	case opBucketDelete:
		return "BucketDelete"
	case opObjectPut:
		return "ObjectPut"
	case opObjectDelete:
		return "ObjectDelete"
	case opJobDone:
		return "JobDone"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// command is one state change. Everything Apply needs travels inside it,
// including the time and the IDs, so that applying it is deterministic.
type command struct {
	Op     cmdOp
	Time   time.Time // when the caller issued it
	Bucket string
	Key    string
	ID     string // ObjectDelete: the delete's version ID; JobDone: the job ID
	Object Object // ObjectPut; Bucket and Key are taken from the command

	// objectRaw is the ObjectPut's encoded object as it came out of the log.
	// It is exactly the stored record, so apply stores it as is; decoding
	// fills only Object's VersionID, Blob and Size, which apply needs.
	objectRaw []byte
}

const (
	cmdTagOp     = 1
	cmdTagTime   = 2
	cmdTagBucket = 3
	cmdTagKey    = 4
	cmdTagID     = 5
	cmdTagObject = 6
)

// entryFormat is the first byte of every raft entry this package writes;
// a different byte means a layout this version cannot read.
const entryFormat byte = 1

// Limits checked before proposing. The S3 limit for a key is 1024 bytes;
// bbolt's own key limit is 32 KiB.
const (
	maxKeyLen    = 1024
	maxBucketLen = 255
	maxIDLen     = 128
	blobHexLen   = 64
)

func (c *command) encode() []byte {
	e := encoder{b: make([]byte, 0, 192)}
	e.uint(cmdTagOp, uint64(c.Op))
	e.time(cmdTagTime, c.Time)
	e.str(cmdTagBucket, c.Bucket)
	e.str(cmdTagKey, c.Key)
	e.str(cmdTagID, c.ID)
	if c.Op == opObjectPut {
		e.bytes(cmdTagObject, encodeObject(&c.Object))
	}
	return e.b
}

func decodeCommand(b []byte, c *command) error {
	d := decoder{b: b}
	for d.next() {
		switch d.tag {
		case cmdTagOp:
			c.Op = cmdOp(d.uint())
		case cmdTagTime:
			c.Time = d.time()
		case cmdTagBucket:
			c.Bucket = d.str()
		case cmdTagKey:
			c.Key = d.str()
		case cmdTagID:
			c.ID = d.str()
		case cmdTagObject:
			var h objectHead
			if err := h.decode(d.v); err != nil {
				return err
			}
			c.objectRaw = d.v
			c.Object.VersionID, c.Object.Blob, c.Object.Size = h.versionID, h.blob, h.size
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode command: %w", d.err)
	}
	c.Object.Bucket, c.Object.Key = c.Bucket, c.Key
	return nil
}

// appendEntry builds a raft entry: the format byte, then each encoded
// command prefixed by its length.
func appendEntry(entry []byte, cmd []byte) []byte {
	if len(entry) == 0 {
		entry = append(entry, entryFormat)
	}
	entry = binary.AppendUvarint(entry, uint64(len(cmd)))
	return append(entry, cmd...)
}

// splitEntry calls fn with each encoded command of a raft entry.
func splitEntry(entry []byte, fn func(cmd []byte) error) error {
	if len(entry) == 0 || entry[0] != entryFormat {
		var got byte
		if len(entry) > 0 {
			got = entry[0]
		}
		return fmt.Errorf("entry format %d is not %d: written by a newer ipas version?", got, entryFormat)
	}
	b := entry[1:]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return fmt.Errorf("entry: %w", errCorrupt)
		}
		if err := fn(b[n : n+int(l)]); err != nil {
			return err
		}
		b = b[n+int(l):]
	}
	return nil
}

// validate is used both before proposing and inside apply, where a failure
// is a deterministic result rather than an error.
func (c *command) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidCommand, c.Op, fmt.Sprintf(format, args...))
	}
	if c.Time.IsZero() {
		return bad("time not set")
	}
	switch c.Op {
	case opBucketCreate, opBucketDelete, opObjectPut, opObjectDelete:
		if c.Bucket == "" || len(c.Bucket) > maxBucketLen {
			return bad("bucket name must be 1-%d bytes", maxBucketLen)
		}
	}
	switch c.Op {
	case opObjectPut, opObjectDelete:
		if c.Key == "" || len(c.Key) > maxKeyLen {
			return bad("key must be 1-%d bytes", maxKeyLen)
		}
	}
	switch c.Op {
	case opObjectPut:
		o := &c.Object
		if o.VersionID == "" || len(o.VersionID) > maxIDLen {
			return bad("version ID must be 1-%d bytes", maxIDLen)
		}
		if len(o.Blob) != blobHexLen || !isLowerHex(o.Blob) {
			return bad("blob %q is not a lowercase hex SHA-256", o.Blob)
		}
		if o.Size < 0 {
			return bad("negative size %d", o.Size)
		}
	case opObjectDelete, opJobDone:
		if c.ID == "" || len(c.ID) > maxIDLen {
			return bad("ID must be 1-%d bytes", maxIDLen)
		}
	case opBucketCreate, opBucketDelete:
	default:
		return bad("unknown command")
	}
	return nil
}
