package queue

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Field tags of stored records. Never reuse or renumber a tag; add new ones.
const (
	objVersionID   = 1
	objBlob        = 2 // raw 32 bytes
	objSize        = 3
	objETagRaw     = 4
	objETagStr     = 5
	objSHA256Raw   = 6
	objSHA256Str   = 7
	objSHA256Blob  = 8 // 1: SHA256 equals Blob (saves 32 bytes per object)
	objContentType = 9
	objMetadata    = 10
	objChecksums   = 11
	objModTime     = 12
	objBlobStr     = 13 // a Blob that is not lowercase hex (never valid today)
	objPart        = 14 // repeated nested ObjectPart
	objReplica     = 15 // nested Replica: the version is on the remote
	objRemoteOnly  = 16 // 1: the bytes are on the remote only (no blobs)
	objDelMarker   = 17 // 1: a delete marker
	objVersioned   = 18 // 1: put while versioning was Enabled (not the null version)

	opartBlob    = 1 // raw 32 bytes
	opartBlobStr = 2
	opartSize    = 3

	replicaETag = 1
	replicaSize = 2
	replicaAt   = 3
)

// objectHead is the part of a stored object that overwrites and deletes
// need (the blob references), decoded without building maps.
type objectHead struct {
	versionID, blob string
	etag            string
	size            int64
	parts           []ObjectPart
	modTime         time.Time
	remoteOnly      bool
	deleteMarker    bool
	versioned       bool
}

func (h *objectHead) decode(b []byte) error {
	d := decoder{b: b}
	for d.next() {
		switch d.tag {
		case objVersionID:
			h.versionID = d.str()
		case objBlob:
			h.blob = d.hex()
		case objBlobStr:
			h.blob = d.str()
		case objSize:
			h.size = d.int()
		case objETagRaw:
			h.etag = d.hex()
		case objETagStr:
			h.etag = d.str()
		case objPart:
			h.parts = append(h.parts, d.objectPart())
		case objModTime:
			h.modTime = d.time()
		case objRemoteOnly:
			h.remoteOnly = d.uint() == 1
		case objDelMarker:
			h.deleteMarker = d.uint() == 1
		case objVersioned:
			h.versioned = d.uint() == 1
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode object: %w", d.err)
	}
	return nil
}

// isVersion reports whether the version's S3 version ID is id.
func (h *objectHead) isVersion(id string) bool {
	if id == NullVersionID {
		return !h.versioned
	}
	return h.versioned && h.versionID == id
}

// blobs calls fn with every blob reference the version holds: its blob, or
// each part occurrence. A remote-only version holds none.
func (h *objectHead) blobs(fn func(blob string)) {
	if h.blob != "" {
		fn(h.blob)
	}
	for _, p := range h.parts {
		if p.Blob != "" {
			fn(p.Blob)
		}
	}
}

func (e *encoder) objectPart(tag int, p ObjectPart) {
	var pe encoder
	pe.hex(opartBlob, opartBlobStr, p.Blob)
	pe.int(opartSize, p.Size)
	e.key(tag, wireBytes)
	e.b = binary.AppendUvarint(e.b, uint64(len(pe.b)))
	e.b = append(e.b, pe.b...)
}

func (d *decoder) objectPart() ObjectPart {
	var p ObjectPart
	pd := decoder{b: d.v}
	for pd.next() {
		switch pd.tag {
		case opartBlob:
			p.Blob = pd.hex()
		case opartBlobStr:
			p.Blob = pd.str()
		case opartSize:
			p.Size = pd.int()
		}
	}
	if pd.err != nil {
		d.err = pd.err
	}
	return p
}

// encodeObject encodes o without Bucket and Key: those are the database path.
func encodeObject(o *Object) []byte {
	e := encoder{b: make([]byte, 0, 128)}
	e.str(objVersionID, o.VersionID)
	e.hex(objBlob, objBlobStr, o.Blob)
	e.int(objSize, o.Size)
	e.hex(objETagRaw, objETagStr, o.ETag)
	if o.SHA256 != "" && o.SHA256 == o.Blob {
		e.uint(objSHA256Blob, 1)
	} else {
		e.hex(objSHA256Raw, objSHA256Str, o.SHA256)
	}
	e.str(objContentType, o.ContentType)
	e.strMap(objMetadata, o.Metadata)
	e.strMap(objChecksums, o.Checksums)
	e.time(objModTime, o.ModTime)
	for _, p := range o.Parts {
		e.objectPart(objPart, p)
	}
	e.replica(objReplica, o.Replica)
	if o.RemoteOnly {
		e.uint(objRemoteOnly, 1)
	}
	if o.DeleteMarker {
		e.uint(objDelMarker, 1)
	}
	if o.Versioned {
		e.uint(objVersioned, 1)
	}
	return e.b
}

func decodeObject(b []byte, o *Object) error {
	d := decoder{b: b}
	sameAsBlob := false
	for d.next() {
		switch d.tag {
		case objVersionID:
			o.VersionID = d.str()
		case objBlob:
			o.Blob = d.hex()
		case objBlobStr:
			o.Blob = d.str()
		case objSize:
			o.Size = d.int()
		case objETagRaw:
			o.ETag = d.hex()
		case objETagStr:
			o.ETag = d.str()
		case objSHA256Raw:
			o.SHA256 = d.hex()
		case objSHA256Str:
			o.SHA256 = d.str()
		case objSHA256Blob:
			sameAsBlob = d.uint() == 1
		case objContentType:
			o.ContentType = d.str()
		case objMetadata:
			d.mapEntry(&o.Metadata)
		case objChecksums:
			d.mapEntry(&o.Checksums)
		case objModTime:
			o.ModTime = d.time()
		case objPart:
			o.Parts = append(o.Parts, d.objectPart())
		case objReplica:
			o.Replica = d.replica()
		case objRemoteOnly:
			o.RemoteOnly = d.uint() == 1
		case objDelMarker:
			o.DeleteMarker = d.uint() == 1
		case objVersioned:
			o.Versioned = d.uint() == 1
		}
	}
	if sameAsBlob {
		o.SHA256 = o.Blob
	}
	if d.err != nil {
		return fmt.Errorf("decode object: %w", d.err)
	}
	return nil
}

const (
	jobID          = 1
	jobOp          = 2
	jobBucket      = 3
	jobKey         = 4
	jobVersionID   = 5 // omitted when equal to ID
	jobBlob        = 6 // omitted when jobObject is present
	jobSize        = 7 // omitted when jobObject is present
	jobCreated     = 8
	jobState       = 9
	jobUploadID    = 10
	jobPartSize    = 11
	jobPart        = 12 // repeated nested part
	jobAttempts    = 13
	jobLastError   = 14
	jobBlobStr     = 15
	jobObject      = 16 // the put version's object record, as stored in objects
	jobNotBefore   = 17
	jobQuarantined = 18 // 1: quarantined
	jobLastFailure = 19

	partNumber   = 1
	partETag     = 2
	partSize     = 3
	partChecksum = 4
)

// encodeJob encodes j without Seq: that is the database key. objRaw, when
// not nil, is j.Object already encoded (apply has it from the log).
func encodeJob(j *Job, objRaw []byte) []byte {
	if objRaw == nil && j.Op == JobPut && j.Object.VersionID != "" {
		objRaw = encodeObject(&j.Object)
	}
	e := encoder{b: make([]byte, 0, 48+len(objRaw))}
	e.str(jobID, j.ID)
	e.uint(jobOp, uint64(j.Op))
	e.str(jobBucket, j.Bucket)
	e.str(jobKey, j.Key)
	if j.VersionID != j.ID {
		e.str(jobVersionID, j.VersionID)
	}
	if objRaw == nil {
		e.hex(jobBlob, jobBlobStr, j.Blob)
		e.int(jobSize, j.Size)
	}
	e.bytes(jobObject, objRaw)
	e.time(jobCreated, j.Created)
	e.uint(jobState, uint64(j.State))
	e.str(jobUploadID, j.UploadID)
	e.int(jobPartSize, j.PartSize)
	for _, p := range j.PartsDone {
		var pe encoder
		pe.int(partNumber, int64(p.Number))
		pe.str(partETag, p.ETag)
		pe.int(partSize, p.Size)
		pe.str(partChecksum, p.Checksum)
		e.bytes(jobPart, pe.b)
	}
	e.int(jobAttempts, int64(j.Attempts))
	e.str(jobLastError, j.LastError)
	e.time(jobLastFailure, j.LastFailure)
	e.time(jobNotBefore, j.NotBefore)
	if j.Quarantined {
		e.uint(jobQuarantined, 1)
	}
	return e.b
}

func decodeJob(b []byte, j *Job) error {
	_, err := decodeJobRaw(b, j)
	return err
}

// decodeJobRaw also returns the object record inside b (nil if none), so
// that an update can store it again without encoding it.
func decodeJobRaw(b []byte, j *Job) ([]byte, error) {
	d := decoder{b: b}
	hasVersion := false
	var objRaw []byte
	for d.next() {
		switch d.tag {
		case jobID:
			j.ID = d.str()
		case jobOp:
			j.Op = JobOp(d.uint())
		case jobBucket:
			j.Bucket = d.str()
		case jobKey:
			j.Key = d.str()
		case jobVersionID:
			j.VersionID, hasVersion = d.str(), true
		case jobBlob:
			j.Blob = d.hex()
		case jobBlobStr:
			j.Blob = d.str()
		case jobSize:
			j.Size = d.int()
		case jobObject:
			objRaw = d.v
		case jobCreated:
			j.Created = d.time()
		case jobState:
			j.State = JobState(d.uint())
		case jobUploadID:
			j.UploadID = d.str()
		case jobPartSize:
			j.PartSize = d.int()
		case jobPart:
			j.PartsDone = append(j.PartsDone, d.jobPart())
		case jobAttempts:
			j.Attempts = int(d.int())
		case jobLastError:
			j.LastError = d.str()
		case jobLastFailure:
			j.LastFailure = d.time()
		case jobNotBefore:
			j.NotBefore = d.time()
		case jobQuarantined:
			j.Quarantined = d.uint() == 1
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode job: %w", d.err)
	}
	if !hasVersion {
		j.VersionID = j.ID
	}
	if objRaw != nil {
		if err := decodeObject(objRaw, &j.Object); err != nil {
			return nil, fmt.Errorf("decode job %s: %w", j.ID, err)
		}
		j.Blob, j.Size = j.Object.Blob, j.Object.Size
	} else if j.Op == JobPut {
		// Written before jobs kept their object: what the job itself knew.
		j.Object = Object{VersionID: j.VersionID, Blob: j.Blob, Size: j.Size}
	}
	if j.Op == JobPut {
		j.Object.Bucket, j.Object.Key = j.Bucket, j.Key
	}
	return objRaw, nil
}

func (d *decoder) jobPart() Part {
	var p Part
	pd := decoder{b: d.v}
	for pd.next() {
		switch pd.tag {
		case partNumber:
			p.Number = int(pd.int())
		case partETag:
			p.ETag = pd.str()
		case partSize:
			p.Size = pd.int()
		case partChecksum:
			p.Checksum = pd.str()
		}
	}
	if pd.err != nil {
		d.err = pd.err
	}
	return p
}
