package queue

import (
	"encoding/binary"
	"fmt"
)

// Field tags of stored upload records (and of the upload fields of
// commands). Never reuse or renumber a tag; add new ones.
const (
	upBucket      = 1
	upKey         = 2
	upCreated     = 3
	upContentType = 4
	upMetadata    = 5
	upChecksumAlg = 6
	upChecksumTyp = 7

	upartNumber    = 1 // in commands only: the database key holds it
	upartBlob      = 2 // raw 32 bytes
	upartBlobStr   = 3
	upartSize      = 4
	upartETagRaw   = 5
	upartETagStr   = 6
	upartChecksums = 7
	upartModTime   = 8
)

// encodeUpload encodes u without ID (the database key) and Parts (stored
// one record each, so that adding a part costs the same at part 10,000 as
// at part 1).
func encodeUpload(u *Upload) []byte {
	e := encoder{b: make([]byte, 0, 64+len(u.Key))}
	e.str(upBucket, u.Bucket)
	e.str(upKey, u.Key)
	e.time(upCreated, u.Created)
	e.str(upContentType, u.ContentType)
	e.strMap(upMetadata, u.Metadata)
	e.str(upChecksumAlg, u.ChecksumAlgorithm)
	e.str(upChecksumTyp, u.ChecksumType)
	return e.b
}

func decodeUpload(b []byte, u *Upload) error {
	d := decoder{b: b}
	for d.next() {
		switch d.tag {
		case upBucket:
			u.Bucket = d.str()
		case upKey:
			u.Key = d.str()
		case upCreated:
			u.Created = d.time()
		case upContentType:
			u.ContentType = d.str()
		case upMetadata:
			d.mapEntry(&u.Metadata)
		case upChecksumAlg:
			u.ChecksumAlgorithm = d.str()
		case upChecksumTyp:
			u.ChecksumType = d.str()
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode upload: %w", d.err)
	}
	return nil
}

// encodeUploadPart encodes p; withNumber is for commands.
func encodeUploadPart(p *UploadPart, withNumber bool) []byte {
	e := encoder{b: make([]byte, 0, 96)}
	if withNumber {
		e.int(upartNumber, int64(p.Number))
	}
	e.hex(upartBlob, upartBlobStr, p.Blob)
	e.int(upartSize, p.Size)
	e.hex(upartETagRaw, upartETagStr, p.ETag)
	e.strMap(upartChecksums, p.Checksums)
	e.time(upartModTime, p.ModTime)
	return e.b
}

func decodeUploadPart(b []byte, p *UploadPart) error {
	d := decoder{b: b}
	for d.next() {
		switch d.tag {
		case upartNumber:
			p.Number = int(d.int())
		case upartBlob:
			p.Blob = d.hex()
		case upartBlobStr:
			p.Blob = d.str()
		case upartSize:
			p.Size = d.int()
		case upartETagRaw:
			p.ETag = d.hex()
		case upartETagStr:
			p.ETag = d.str()
		case upartChecksums:
			d.mapEntry(&p.Checksums)
		case upartModTime:
			p.ModTime = d.time()
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode upload part: %w", d.err)
	}
	return nil
}

// upPartsPrefix is the upparts key prefix of one upload: the ID is
// length-prefixed, so one ID being a prefix of another cannot mix parts.
func upPartsPrefix(id string) []byte {
	k := binary.AppendUvarint(make([]byte, 0, 1+len(id)+4), uint64(len(id)))
	return append(k, id...)
}

func upPartKey(id string, number int) []byte {
	return binary.BigEndian.AppendUint32(upPartsPrefix(id), uint32(number))
}

// escapeKey appends s to dst so that byte order is kept and s ends
// unambiguously: 0x00 becomes 0x00 0xFF and the end is 0x00 0x01, which
// sorts before any continuation. Hence "a" < "a\x00b" < "ab" stays true of
// the escaped forms, and no name's escaped form is a prefix of another's.
func escapeKey(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
			continue
		}
		dst = append(dst, s[i])
	}
	return append(dst, 0, 1)
}

// escapePrefix is escapeKey without the end mark: the escaped form of every
// name that starts with s starts with it.
func escapePrefix(dst []byte, s string) []byte {
	e := escapeKey(dst, s)
	return e[:len(e)-2]
}

// upKeysKey is the upkeys entry of an upload.
func upKeysKey(bucket, key, id string) []byte {
	k := escapeKey(make([]byte, 0, len(bucket)+len(key)+len(id)+4), bucket)
	k = escapeKey(k, key)
	return append(k, id...)
}
