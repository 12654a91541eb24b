package queue

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Layout of fsm.db. Top-level bbolt buckets:
//
//	meta     schema version, last applied raft index, job sequence, totals
//	buckets  bucket name -> {created, settings}
//	objects  one nested bbolt bucket per S3 bucket: key -> encoded Object
//	jobs     big-endian Seq -> encoded Job (so a cursor walks oldest first)
//	jobids   job ID -> big-endian Seq
//	uploads  upload ID -> encoded Upload without its parts
//	upparts  uvarint(len(ID)) ID big-endian uint32(number) -> encoded UploadPart
//	upkeys   esc(bucket) esc(key) ID -> ID, so uploads list by key, then ID
//	jobparts big-endian Seq big-endian uint32(number) -> encoded Part (jobparts.go)
//	versions one nested bbolt bucket per S3 bucket: esc(key) big-endian
//	         ^seq -> encoded Object, the noncurrent versions and delete
//	         markers, newest first (versions.go)
//
// esc (escapeKey) keeps byte order and ends each name, so that names that
// are prefixes of one another cannot mix.
var (
	bktMeta    = []byte("meta")
	bktBuckets = []byte("buckets")
	bktObjects = []byte("objects")
	bktJobs    = []byte("jobs")
	bktJobIDs  = []byte("jobids")
	// bktRefs held per-blob reference counts up to schema 2.
	bktRefs    = []byte("refs")
	bktUploads = []byte("uploads")
	bktUpParts = []byte("upparts")
	bktUpKeys  = []byte("upkeys")
	// bktJobParts holds put jobs' finished remote parts; added within
	// schema 3 (older databases gain it empty, and their jobs' parts are
	// read from the job records until they move: jobparts.go).
	bktJobParts = []byte("jobparts")
	// bktVersions holds noncurrent versions and delete markers; added
	// within schema 3 (older databases gain it empty: they had none).
	bktVersions = []byte("versions")

	// coreBuckets exist in every schema version, enough to recognise a
	// database this package wrote; allBuckets are those of the current one.
	coreBuckets = [][]byte{bktMeta, bktBuckets, bktObjects, bktJobs, bktJobIDs}
	allBuckets  = append(coreBuckets[:len(coreBuckets):len(coreBuckets)], bktUploads, bktUpParts, bktUpKeys, bktJobParts,
		bktUsers, bktAKeys, bktPolicies, bktVersions)

	keySchema  = []byte("schema")
	keyApplied = []byte("applied")
	keyNextSeq = []byte("nextseq")
	keyNBucket = []byte("buckets")
	keyNObject = []byte("objects")
	keyNBytes  = []byte("bytes")
	keyNJob    = []byte("jobs")
	// Totals of put jobs (what is not offsite yet), the time of the last
	// confirmed upload, and the remote's identity: see replica.go, remote.go.
	keyPendPuts  = []byte("pendputs")
	keyPendBytes = []byte("pendbytes")
	keyLastRepl  = []byte("lastrepl")
	keyRemote    = []byte("remote")
	// The version sequence and the totals of noncurrent versions and
	// delete markers: see versions.go.
	keyVerSeq    = []byte("verseq")
	keyNVersion  = []byte("versions")
	keyNVerBytes = []byte("verbytes")
)

// schemaVersion is bumped when the layout changes in a way an older binary
// cannot read. 2 added multipart uploads and composite objects, which an
// older binary would lose the blob references of. 3 dropped the reference
// counts (refs), which an older binary's collector would read as "nothing
// is referenced".
const schemaVersion = 3

// jobsFillPercent packs the jobs and jobids buckets: their keys (sequence
// numbers, time-ordered version IDs) mostly grow, and bbolt's default
// half-full split would waste half of every page.
const jobsFillPercent = 0.95

// objectsFillPercent packs object keys tighter than bbolt's default: keys
// usually arrive in order within a prefix (a folder, a backup run), so
// half-full splits would waste close to half the index (measured: 49% fill
// at 0.5 for 1M objects in 204 interleaved prefixes).
const objectsFillPercent = 0.9

// initSchema refuses a database written by a newer layout. In a writable
// transaction it also creates the buckets of a new database, or upgrades an
// older one (the added buckets start empty, which is what an older layout
// means).
func initSchema(tx *bolt.Tx) error {
	if m := tx.Bucket(bktMeta); m != nil {
		if v := getU64(m, keySchema); v > schemaVersion {
			return fmt.Errorf("schema version %d is newer than %d: written by a newer ipas version", v, schemaVersion)
		}
	}
	if !tx.Writable() || schemaCurrent(tx) {
		return nil
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if tx.Bucket(bktRefs) != nil {
		if err := tx.DeleteBucket(bktRefs); err != nil {
			return fmt.Errorf("delete bucket %s: %w", bktRefs, err)
		}
	}
	if err := initPendingTotals(tx); err != nil {
		return err
	}
	return putU64(tx.Bucket(bktMeta), keySchema, schemaVersion)
}

// hasSchema reports whether tx looks like a database this package wrote,
// of any schema version.
func hasSchema(tx *bolt.Tx) bool {
	for _, name := range coreBuckets {
		if tx.Bucket(name) == nil {
			return false
		}
	}
	return true
}

// schemaCurrent reports whether tx has every bucket of this schema version.
func schemaCurrent(tx *bolt.Tx) bool {
	m := tx.Bucket(bktMeta)
	if m == nil || getU64(m, keySchema) != schemaVersion {
		return false
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return false
		}
	}
	return m.Get(keyPendPuts) != nil
}

func u64Key(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func getU64(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putU64(b *bolt.Bucket, k []byte, v uint64) error {
	return b.Put(k, u64Key(v))
}

// addU64 adds delta to a counter in meta.
func addU64(tx *bolt.Tx, k []byte, delta int64) error {
	if delta == 0 {
		return nil
	}
	m := tx.Bucket(bktMeta)
	return putU64(m, k, uint64(int64(getU64(m, k))+delta))
}

func appliedIndex(tx *bolt.Tx) uint64 {
	m := tx.Bucket(bktMeta)
	if m == nil {
		return 0
	}
	return getU64(m, keyApplied)
}

const (
	bucketCreated  = 1
	bucketSettings = 2 // repeated {name, value}
)

func encodeBucket(b *Bucket) []byte {
	var e encoder
	e.time(bucketCreated, b.Created)
	e.str(bucketOwner, b.Owner)
	e.strMap(bucketSettings, b.Settings)
	return e.b
}

func decodeBucket(name string, v []byte) (Bucket, error) {
	b := Bucket{Name: name}
	d := decoder{b: v}
	for d.next() {
		switch d.tag {
		case bucketCreated:
			b.Created = d.time()
		case bucketOwner:
			b.Owner = d.str()
		case bucketSettings:
			d.mapEntry(&b.Settings)
		}
	}
	if d.err != nil {
		return b, fmt.Errorf("decode bucket %s: %w", name, d.err)
	}
	return b, nil
}
