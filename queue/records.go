package queue

import "fmt"

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
)

// objectHead is the part of a stored object that overwrites and deletes
// need, decoded without building maps.
type objectHead struct {
	versionID, blob string
	size            int64
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
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode object: %w", d.err)
	}
	return nil
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
	jobID        = 1
	jobOp        = 2
	jobBucket    = 3
	jobKey       = 4
	jobVersionID = 5 // omitted when equal to ID
	jobBlob      = 6
	jobSize      = 7
	jobCreated   = 8
	jobState     = 9
	jobUploadID  = 10
	jobPartSize  = 11
	jobPart      = 12 // repeated nested part
	jobAttempts  = 13
	jobLastError = 14
	jobBlobStr   = 15

	partNumber = 1
	partETag   = 2
	partSize   = 3
)

// encodeJob encodes j without Seq: that is the database key.
func encodeJob(j *Job) []byte {
	e := encoder{b: make([]byte, 0, 160)}
	e.str(jobID, j.ID)
	e.uint(jobOp, uint64(j.Op))
	e.str(jobBucket, j.Bucket)
	e.str(jobKey, j.Key)
	if j.VersionID != j.ID {
		e.str(jobVersionID, j.VersionID)
	}
	e.hex(jobBlob, jobBlobStr, j.Blob)
	e.int(jobSize, j.Size)
	e.time(jobCreated, j.Created)
	e.uint(jobState, uint64(j.State))
	e.str(jobUploadID, j.UploadID)
	e.int(jobPartSize, j.PartSize)
	for _, p := range j.PartsDone {
		var pe encoder
		pe.int(partNumber, int64(p.Number))
		pe.str(partETag, p.ETag)
		pe.int(partSize, p.Size)
		e.bytes(jobPart, pe.b)
	}
	e.int(jobAttempts, int64(j.Attempts))
	e.str(jobLastError, j.LastError)
	return e.b
}

func decodeJob(b []byte, j *Job) error {
	d := decoder{b: b}
	hasVersion := false
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
		case jobCreated:
			j.Created = d.time()
		case jobState:
			j.State = JobState(d.uint())
		case jobUploadID:
			j.UploadID = d.str()
		case jobPartSize:
			j.PartSize = d.int()
		case jobPart:
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
				}
			}
			if pd.err != nil {
				d.err = pd.err
			}
			j.PartsDone = append(j.PartsDone, p)
		case jobAttempts:
			j.Attempts = int(d.int())
		case jobLastError:
			j.LastError = d.str()
		}
	}
	if !hasVersion {
		j.VersionID = j.ID
	}
	if d.err != nil {
		return fmt.Errorf("decode job: %w", d.err)
	}
	return nil
}
