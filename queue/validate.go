package queue

import "fmt"

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
	case opBucketCreate, opBucketDelete, opObjectPut, opObjectDelete, opUploadCreate, opUploadComplete,
		opObjectRequeue, opReplicaFound, opBucketSet, opObjectEvict, opObjectDeleteVersion, opObjectRetag:
		if c.Bucket == "" || len(c.Bucket) > maxBucketLen {
			return bad("bucket name must be 1-%d bytes", maxBucketLen)
		}
		if c.Op == opBucketCreate || c.Op == opBucketDelete || c.Op == opBucketSet {
			break
		}
		if c.Key == "" || len(c.Key) > maxKeyLen {
			return bad("key must be 1-%d bytes", maxKeyLen)
		}
	}
	switch c.Op {
	case opBucketCreate, opBucketDelete, opObjectPut:
	case opBucketSet:
		if err := validateSetting(&c.Setting, bad); err != nil {
			return err
		}
	case opRemoteSet:
		r := &c.Remote
		if r.IsZero() {
			return bad("remote has no endpoint, bucket or prefix")
		}
		if len(r.Endpoint) > maxKeyLen || len(r.Bucket) > maxBucketLen || len(r.Prefix) > maxKeyLen {
			return bad("remote endpoint, bucket or prefix too long")
		}
	case opObjectDelete, opJobDone, opUploadCreate, opUploadPart, opUploadAbort, opUploadComplete,
		opJobStarted, opJobPartDone, opJobFailed, opJobQuarantined, opJobReset, opObjectRequeue, opReplicaFound, opJobRetry,
		opObjectEvict, opObjectDeleteVersion, opObjectRetag:
		if c.ID == "" || len(c.ID) > maxIDLen {
			return bad("ID must be 1-%d bytes", maxIDLen)
		}
	case opUserPut, opUserDelete, opKeyPut, opKeyDelete, opBucketPolicy:
		if err := validateAuth(c, bad); err != nil {
			return err
		}
	default:
		return bad("unknown command")
	}
	if err := validateInline(c, bad); err != nil {
		return err
	}
	if err := validateCondition(c, bad); err != nil {
		return err
	}
	switch c.Op {
	case opObjectPut, opUploadComplete:
		if c.Object.RemoteOnly && (c.Op != opObjectPut || !c.Restored) {
			return bad("only a restored put makes a version whose bytes are on the remote only")
		}
		return validateObject(&c.Object, bad)
	case opUploadPart:
		p := &c.UploadPart
		if p.Number < 1 || p.Number > maxParts {
			return bad("part number %d is not 1-%d", p.Number, maxParts)
		}
		if !isBlob(p.Blob) {
			return bad("blob %q is not a lowercase hex SHA-256", p.Blob)
		}
		if p.Size < 0 {
			return bad("negative size %d", p.Size)
		}
	case opJobStarted:
		if c.UploadID == "" || len(c.UploadID) > maxRemoteIDLen {
			return bad("upload ID must be 1-%d bytes", maxRemoteIDLen)
		}
		if c.PartSize <= 0 {
			return bad("part size %d is not positive", c.PartSize)
		}
	case opJobPartDone:
		if c.UploadID == "" || len(c.UploadID) > maxRemoteIDLen {
			return bad("upload ID must be 1-%d bytes", maxRemoteIDLen)
		}
		if c.JobPart.Number < 1 || c.JobPart.Number > maxParts {
			return bad("part number %d is not 1-%d", c.JobPart.Number, maxParts)
		}
		if c.JobPart.Size < 0 {
			return bad("negative size %d", c.JobPart.Size)
		}
	}
	return nil
}

// validateObject checks what apply relies on: the version ID and the blob
// references. A composite object (Parts) has no Blob of its own, and its
// parts add up to its size.
func validateObject(o *Object, bad func(string, ...any) error) error {
	if o.VersionID == "" || len(o.VersionID) > maxIDLen {
		return bad("version ID must be 1-%d bytes", maxIDLen)
	}
	if o.Size < 0 {
		return bad("negative size %d", o.Size)
	}
	if o.RemoteOnly {
		return validateRemoteOnly(o, bad)
	}
	if len(o.Parts) == 0 {
		if !isBlob(o.Blob) {
			return bad("blob %q is not a lowercase hex SHA-256", o.Blob)
		}
		return nil
	}
	if o.Blob != "" {
		return bad("a composite object has parts and no blob")
	}
	if len(o.Parts) > maxParts {
		return bad("%d parts, more than %d", len(o.Parts), maxParts)
	}
	var sum int64
	for i, p := range o.Parts {
		if !isBlob(p.Blob) {
			return bad("part %d: blob %q is not a lowercase hex SHA-256", i+1, p.Blob)
		}
		if p.Size < 0 {
			return bad("part %d: negative size %d", i+1, p.Size)
		}
		sum += p.Size
	}
	if sum != o.Size {
		return bad("parts add up to %d bytes, the size is %d", sum, o.Size)
	}
	return nil
}

// validateRemoteOnly checks a version whose bytes are on the remote only: it
// names no blob, and its parts, if it keeps their sizes, add up to its size.
func validateRemoteOnly(o *Object, bad func(string, ...any) error) error {
	if o.Blob != "" {
		return bad("a version on the remote only names blob %s", o.Blob)
	}
	if len(o.Parts) > maxParts {
		return bad("%d parts, more than %d", len(o.Parts), maxParts)
	}
	var sum int64
	for i, p := range o.Parts {
		if p.Blob != "" {
			return bad("part %d of a version on the remote only names blob %s", i+1, p.Blob)
		}
		if p.Size < 0 {
			return bad("part %d: negative size %d", i+1, p.Size)
		}
		sum += p.Size
	}
	if len(o.Parts) > 0 && sum != o.Size {
		return bad("parts add up to %d bytes, the size is %d", sum, o.Size)
	}
	return nil
}

func isBlob(s string) bool { return len(s) == blobHexLen && isLowerHex(s) }
