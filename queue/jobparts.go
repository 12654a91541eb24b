package queue

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// A put job's finished remote parts (Job.PartsDone) live one record each in
// the jobparts bucket, keyed by the job's sequence number and the part
// number, so that journaling part 10,000 costs what part 1 did: the job's
// own record is neither read back with its parts nor rewritten. Jobs
// written before kept their parts inside the job record (tag jobPart);
// they are read as before, and moved out the first time the job changes.

// jobPartKey is the jobparts key of part number of the job at seq (the
// 8-byte jobs key).
func jobPartKey(seq []byte, number int) []byte {
	return binary.BigEndian.AppendUint32(append(make([]byte, 0, len(seq)+4), seq...), uint32(number))
}

func encodeJobPart(p *Part) []byte {
	var e encoder
	e.int(partNumber, int64(p.Number))
	e.str(partETag, p.ETag)
	e.int(partSize, p.Size)
	e.str(partChecksum, p.Checksum)
	return e.b
}

func decodeJobPart(v []byte) (Part, error) {
	d := decoder{v: v}
	p := d.jobPart()
	if d.err != nil {
		return Part{}, fmt.Errorf("decode job part: %w", d.err)
	}
	return p, nil
}

// loadJobParts appends the parts recorded for the job at seq to
// j.PartsDone, in part number order.
func loadJobParts(tx *bolt.Tx, seq []byte, j *Job) error {
	c := tx.Bucket(bktJobParts).Cursor()
	for k, v := c.Seek(seq); k != nil && bytes.HasPrefix(k, seq); k, v = c.Next() {
		p, err := decodeJobPart(v)
		if err != nil {
			return fmt.Errorf("job %d: %w", jobSeq(seq), err)
		}
		j.PartsDone = append(j.PartsDone, p)
	}
	return nil
}

// hasJobParts reports whether the job at seq has a part recorded.
func hasJobParts(tx *bolt.Tx, seq []byte) bool {
	k, _ := tx.Bucket(bktJobParts).Cursor().Seek(seq)
	return k != nil && bytes.HasPrefix(k, seq)
}

// putJobPart records p for the job at seq and reports whether that changed
// anything (a retry of the same part does not).
func putJobPart(tx *bolt.Tx, seq []byte, p *Part) (bool, error) {
	b := tx.Bucket(bktJobParts)
	k, v := jobPartKey(seq, p.Number), encodeJobPart(p)
	if bytes.Equal(b.Get(k), v) {
		return false, nil
	}
	return true, b.Put(k, v)
}

// deleteJobParts removes every part recorded for the job at seq.
func deleteJobParts(tx *bolt.Tx, seq []byte) error {
	c := tx.Bucket(bktJobParts).Cursor()
	for k, _ := c.Seek(seq); k != nil && bytes.HasPrefix(k, seq); k, _ = c.Seek(seq) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
