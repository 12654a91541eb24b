package queue

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MarkReferenced calls fn with the SHA-256 (lowercase hex) of every blob that
// an object version, a pending replication job or an unfinished multipart
// upload references, read from one consistent view of the index. A blob
// referenced several times is reported several times. It is the mark phase of
// the store's collector, which deletes only blobs that no MarkReferenced
// started after the blob's last pin reported; fn must not call the Node.
//
// The index keeps no per-blob reference counts: with digests as keys they
// were random page writes on every put and cost the journal two thirds of
// its throughput (bench/README.md).
func (n *Node) MarkReferenced(ctx context.Context, fn func(blob string)) error {
	err := n.fsm.viewCommitted(func(tx *bolt.Tx) error { return markReferenced(ctx, tx, fn) })
	if err != nil {
		return fmt.Errorf("queue: mark referenced blobs: %w", err)
	}
	return nil
}

// markCheckEvery is how many records pass between two checks of ctx.
const markCheckEvery = 4096

func markReferenced(ctx context.Context, tx *bolt.Tx, fn func(blob string)) error {
	seen := 0
	check := func() error {
		if seen++; seen%markCheckEvery == 0 {
			return ctx.Err()
		}
		return nil
	}
	// Noncurrent versions hold their blobs as current ones do.
	for _, top := range [][]byte{bktObjects, bktVersions} {
		index := tx.Bucket(top)
		err := index.ForEachBucket(func(name []byte) error {
			return index.Bucket(name).ForEach(func(k, v []byte) error {
				var h objectHead
				if err := h.decode(v); err != nil {
					return fmt.Errorf("%s %s/%x: %w", top, name, k, err)
				}
				h.blobs(fn)
				return check()
			})
		})
		if err != nil {
			return err
		}
	}
	err := tx.Bucket(bktJobs).ForEach(func(k, v []byte) error {
		var j Job
		if err := decodeJob(v, &j); err != nil {
			return fmt.Errorf("job %d: %w", jobSeq(k), err)
		}
		h := objectHead{blob: j.Blob, parts: j.Object.Parts}
		h.blobs(fn)
		return check()
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bktUpParts).ForEach(func(k, v []byte) error {
		var p UploadPart
		if err := decodeUploadPart(v, &p); err != nil {
			return fmt.Errorf("upload part %x: %w", k, err)
		}
		if p.Blob != "" {
			fn(p.Blob)
		}
		return check()
	})
}
