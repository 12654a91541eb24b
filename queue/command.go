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
	opBucketCreate   cmdOp = 1
	opBucketDelete   cmdOp = 2
	opObjectPut      cmdOp = 3
	opObjectDelete   cmdOp = 4
	opJobDone        cmdOp = 5
	opUploadCreate   cmdOp = 6
	opUploadPart     cmdOp = 7
	opUploadAbort    cmdOp = 8
	opUploadComplete cmdOp = 9
	opJobStarted     cmdOp = 10
	opJobPartDone    cmdOp = 11
	opJobFailed      cmdOp = 12
	opJobQuarantined cmdOp = 13
	opJobReset       cmdOp = 14
	opRemoteSet      cmdOp = 15
	opObjectRequeue  cmdOp = 16 // requeue.go
	opReplicaFound   cmdOp = 17 // requeue.go
	opJobRetry       cmdOp = 18 // jobs.go: an operator's retry or release
	opBucketSet      cmdOp = 19 // bucketsettings.go
	opObjectEvict    cmdOp = 20 // evict.go
	// opObjectDeleteVersion removes one version of a key for good
	// (versions.go). Ops 22-29 are kept for versioning.
	opObjectDeleteVersion cmdOp = 21
	// opObjectRetag replaces one version's metadata in place (versions.go).
	opObjectRetag cmdOp = 22

	// opLast is the newest op this version knows.
	opLast = opObjectRetag
)

var opNames = [...]string{
	opBucketCreate: "BucketCreate", opBucketDelete: "BucketDelete", opObjectPut: "ObjectPut",
	opObjectDelete: "ObjectDelete", opJobDone: "JobDone", opUploadCreate: "UploadCreate",
	opUploadPart: "UploadPart", opUploadAbort: "UploadAbort", opUploadComplete: "UploadComplete",
	opJobStarted: "JobStarted", opJobPartDone: "JobPartDone", opJobFailed: "JobFailed",
	opJobQuarantined: "JobQuarantined", opJobReset: "JobReset", opRemoteSet: "RemoteSet",
	opObjectRequeue: "ObjectRequeue", opReplicaFound: "ReplicaFound", opJobRetry: "JobRetry",
	opBucketSet: "BucketSet", opObjectEvict: "ObjectEvict", opObjectDeleteVersion: "ObjectDeleteVersion",
	opObjectRetag: "ObjectRetag",
}

func (o cmdOp) String() string {
	if o >= opBucketCreate && o <= opLast {
		return opNames[o]
	}
	if n, ok := authOpNames[o]; ok {
		return n
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
	// ID is the delete's version ID (ObjectDelete), the S3 version ID to
	// remove (ObjectDeleteVersion), the job ID (Job*) or the upload ID
	// (Upload*).
	ID string
	// Object is the version to make current (ObjectPut, UploadComplete);
	// its Bucket and Key are taken from the command.
	Object     Object
	Upload     Upload     // UploadCreate: Created, ContentType, Metadata, ChecksumAlgorithm, ChecksumType
	UploadPart UploadPart // UploadPart
	UploadID   string     // JobStarted, JobPartDone: the remote multipart upload
	PartSize   int64      // JobStarted
	JobPart    Part       // JobPartDone
	Text       string     // JobFailed: the error; JobQuarantined: the reason
	At         time.Time  // JobFailed: when to retry
	// Inline is the object's bytes (ObjectPut from PutObjectInline): its blob
	// was not durable when it was journaled.
	Inline []byte
	// Replica is what the remote reported for a put job's version (JobDone
	// from JobReplicated): the version is recorded as replicated. Absent in
	// JobDone entries written before it existed, which only remove the job.
	Replica Replica
	// Restored marks an ObjectPut of a version downloaded from the remote
	// (PutRestoredObject): it creates no job, keeps Object.Replica, and
	// applies only if the key has no version with a later ModTime.
	Restored bool
	// Remote is the remote's identity (RemoteSet).
	Remote RemoteIdentity
	// Cond is the precondition of an ObjectPut or UploadComplete, checked
	// when it is applied. Absent in entries written before it existed.
	Cond Condition
	// User is the record of a UserPut; AccessKey that of a KeyPut
	// (users.go); Owner the user a BucketCreate gives the bucket to.
	User      User
	AccessKey AccessKey
	Owner     string
	// Setting is the bucket setting to store (BucketSet; an empty Value
	// removes it).
	Setting BucketSetting

	// objectRaw is the ObjectPut's encoded object as it came out of the log.
	// It is exactly the stored record, so apply stores it as is; decoding
	// fills only Object's VersionID, Blob, Size, Parts, ModTime and
	// RemoteOnly, which apply needs.
	objectRaw []byte
}

const (
	cmdTagOp     = 1
	cmdTagTime   = 2
	cmdTagBucket = 3
	cmdTagKey    = 4
	cmdTagID     = 5
	cmdTagObject = 6
	cmdTagUpID   = 7
	cmdTagUpload = 8
	cmdTagUpPart = 9
	cmdTagJobPrt = 10
	cmdTagPartSz = 11
	cmdTagText   = 12
	cmdTagAt     = 13
	cmdTagInline = 14
	cmdTagRepl   = 15 // nested Replica
	cmdTagRestor = 16 // 1: Restored
	cmdTagRemote = 17 // nested RemoteIdentity
	cmdTagIfNone = 18 // 1: Cond.IfNoneMatch
	cmdTagIfETag = 19 // repeated: Cond.IfMatch
	cmdTagSetNam = 20 // Setting.Name
	cmdTagSetVal = 21 // Setting.Value
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
	// maxParts is S3's limit on part numbers, which also bounds the parts
	// of a composite object.
	maxParts = 10000
	// maxRemoteIDLen bounds a remote multipart UploadId (AWS's are about
	// 130 bytes; other servers' vary).
	maxRemoteIDLen = 1024
	// maxTextLen bounds a journaled error or reason; longer ones are cut.
	maxTextLen = 2048
)

func (c *command) encode() []byte {
	e := encoder{b: make([]byte, 0, 192+len(c.Inline))} // inline data last: one allocation
	e.uint(cmdTagOp, uint64(c.Op))
	e.time(cmdTagTime, c.Time)
	e.str(cmdTagBucket, c.Bucket)
	e.str(cmdTagKey, c.Key)
	e.str(cmdTagID, c.ID)
	switch c.Op {
	case opObjectPut, opUploadComplete:
		o := c.Object
		if !c.Restored {
			o.Replica = Replica{} // only the journal says a new version is replicated
			// and the bucket's versioning, when it applies the put, which
			// version is the null one; a put is never a delete marker.
			o.Versioned, o.DeleteMarker = false, false
		}
		e.bytes(cmdTagObject, encodeObject(&o))
	case opObjectRetag:
		e.bytes(cmdTagObject, encodeObject(&Object{Metadata: c.Object.Metadata}))
	case opUploadCreate:
		e.bytes(cmdTagUpload, encodeUpload(&c.Upload))
	case opUploadPart:
		e.bytes(cmdTagUpPart, encodeUploadPart(&c.UploadPart, true))
	case opJobPartDone:
		var pe encoder
		pe.int(partNumber, int64(c.JobPart.Number))
		pe.str(partETag, c.JobPart.ETag)
		pe.int(partSize, c.JobPart.Size)
		pe.str(partChecksum, c.JobPart.Checksum)
		e.bytes(cmdTagJobPrt, pe.b)
	case opJobDone, opReplicaFound:
		e.replica(cmdTagRepl, c.Replica)
	case opRemoteSet:
		e.bytes(cmdTagRemote, encodeRemote(&c.Remote))
	case opUserPut:
		e.bytes(cmdTagUser, encodeUser(&c.User))
	case opKeyPut:
		e.bytes(cmdTagAKey, encodeAccessKey(&c.AccessKey))
	}
	e.str(cmdTagOwner, c.Owner)
	if c.Restored {
		e.uint(cmdTagRestor, 1)
	}
	if c.Cond.IfNoneMatch {
		e.uint(cmdTagIfNone, 1)
	}
	for _, etag := range c.Cond.IfMatch {
		e.str(cmdTagIfETag, etag)
	}
	e.str(cmdTagSetNam, c.Setting.Name)
	e.str(cmdTagSetVal, c.Setting.Value)
	e.str(cmdTagUpID, c.UploadID)
	e.int(cmdTagPartSz, c.PartSize)
	e.str(cmdTagText, c.Text)
	e.time(cmdTagAt, c.At)
	if c.Inline != nil {
		e.bytes(cmdTagInline, c.Inline)
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
			c.Object.VersionID, c.Object.Blob, c.Object.Size, c.Object.Parts = h.versionID, h.blob, h.size, h.parts
			c.Object.ModTime, c.Object.RemoteOnly = h.modTime, h.remoteOnly
		case cmdTagUpload:
			if err := decodeUpload(d.v, &c.Upload); err != nil {
				return err
			}
		case cmdTagUpPart:
			if err := decodeUploadPart(d.v, &c.UploadPart); err != nil {
				return err
			}
		case cmdTagJobPrt:
			c.JobPart = d.jobPart()
		case cmdTagUpID:
			c.UploadID = d.str()
		case cmdTagPartSz:
			c.PartSize = d.int()
		case cmdTagText:
			c.Text = d.str()
		case cmdTagAt:
			c.At = d.time()
		case cmdTagInline:
			c.Inline = d.v
		case cmdTagRepl:
			c.Replica = d.replica()
		case cmdTagRestor:
			c.Restored = d.uint() == 1
		case cmdTagRemote:
			if err := decodeRemote(d.v, &c.Remote); err != nil {
				return err
			}
		case cmdTagIfNone:
			c.Cond.IfNoneMatch = d.uint() == 1
		case cmdTagIfETag:
			c.Cond.IfMatch = append(c.Cond.IfMatch, d.str())
		case cmdTagUser:
			if err := decodeUser(d.v, &c.User); err != nil {
				return err
			}
		case cmdTagAKey:
			if err := decodeAccessKey(d.v, &c.AccessKey); err != nil {
				return err
			}
		case cmdTagOwner:
			c.Owner = d.str()
		case cmdTagSetNam:
			c.Setting.Name = d.str()
		case cmdTagSetVal:
			c.Setting.Value = d.str()
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

// addsData reports whether c makes the archive hold more (an object, an
// upload, a part): on a full disk such commands are refused, while
// deletes, aborts, completions, replication progress and buckets (a
// record each) go on.
func (c *command) addsData() bool {
	switch c.Op {
	case opObjectPut, opUploadCreate, opUploadPart:
		return true
	}
	return false
}
