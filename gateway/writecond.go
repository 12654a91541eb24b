package gateway

import (
	"errors"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// checkWriteConditions reads If-Match and If-None-Match of a PutObject or a
// CompleteMultipartUpload and checks them against the current object at
// bucket/key, so that a write bound to fail does not upload or hash its body
// first. The returned condition goes into the journal with the write, which
// checks it again atomically with it: of concurrent writers that all passed
// here, only those whose condition still holds when their turn comes win.
// S3 implements If-None-Match only as "*", and not together with If-Match:
// anything else is NotImplemented.
func (s *Server) checkWriteConditions(r *request, bucket, key string) (queue.Condition, error) {
	ifNone, ifMatch := r.Header.Get("If-None-Match"), r.Header.Get("If-Match")
	if r.noOverwrite {
		if ifMatch != "" {
			return queue.Condition{}, errNoOverwrite
		}
		ifNone = "*" // checked again by the journal, atomically with the write
	}
	if ifNone == "" && ifMatch == "" {
		return queue.Condition{}, nil
	}
	if (ifNone != "" && ifMatch != "") || (ifNone != "" && ifNone != "*") {
		return queue.Condition{}, s3err.ErrNotImplemented
	}
	cond := queue.Condition{IfNoneMatch: ifNone == "*", IfMatch: etagList(ifMatch)}
	if ifMatch != "" && len(cond.IfMatch) == 0 {
		return queue.Condition{}, s3err.ErrPreconditionFailed
	}
	cur, err := s.idx.Object(bucket, key)
	exists := err == nil
	if err != nil && !errors.Is(err, queue.ErrNoSuchKey) {
		return queue.Condition{}, err
	}
	if ifNone == "*" && exists {
		if r.noOverwrite {
			return queue.Condition{}, errNoOverwrite
		}
		return queue.Condition{}, s3err.ErrPreconditionFailed
	}
	if ifMatch != "" {
		if !exists {
			return queue.Condition{}, s3err.ErrNoSuchKey
		}
		if !etagMatches(ifMatch, cur.ETag) {
			return queue.Condition{}, s3err.ErrPreconditionFailed
		}
	}
	return cond, nil
}

// maxConditionETags bounds the ETags of an If-Match list that go into the
// journal (queue.Condition's own limit); a longer list is refused, since an
// honest client names one.
const maxConditionETags = 16

// etagList returns the unquoted ETags of an If-Match list ("*" stays "*"),
// or nil for a list that is empty or too long to journal.
func etagList(v string) []string {
	if v == "" {
		return nil
	}
	var list []string
	for _, e := range strings.Split(v, ",") {
		e = strings.Trim(strings.TrimPrefix(strings.TrimSpace(e), "W/"), `"`)
		if e == "" || len(e) > 128 {
			continue
		}
		list = append(list, e)
	}
	if len(list) > maxConditionETags {
		return nil
	}
	return list
}

// writeConditionError turns the journal's verdict on a conditional write
// into S3's answer: a condition that no longer held when the write reached
// the journal is 412, as for the later of two conditional writes in S3; an
// If-Match whose object was deleted meanwhile is 409 ConditionalRequestConflict,
// which tells the client to look again and retry. A write-only key's own
// condition (no overwrite) that fails there is the same AccessDenied as when
// checkWriteConditions finds the object.
func writeConditionError(r *request, err error) error {
	switch {
	case r.noOverwrite && errors.Is(err, queue.ErrPreconditionFailed):
		return errNoOverwrite
	case errors.Is(err, queue.ErrPreconditionFailed):
		return s3err.ErrPreconditionFailed
	case errors.Is(err, queue.ErrNoSuchKey):
		return s3err.ErrConditionalRequestConflict
	}
	return err
}
