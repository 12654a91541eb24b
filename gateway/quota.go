package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
)

// Quotas bound the bytes of the objects in a user's buckets. A write into a
// bucket whose owner has a quota is refused when the owner's usage plus its
// declared size would pass it. Usage is recounted from the index at most
// every quotaRecount and grows with each write let through in between, so a
// check costs a map read.

// quotaRecount is how long a counted usage is trusted.
const quotaRecount = 30 * time.Second

// ErrQuotaExceeded answers a write over its bucket owner's quota.
var ErrQuotaExceeded = &s3err.APIError{Code: "QuotaExceeded", Message: "The bucket owner's storage quota is used up.", Status: http.StatusForbidden}

// quotaWrites are the operations that add bytes.
var quotaWrites = map[string]bool{"PutObject": true, "CopyObject": true, "CreateMultipartUpload": true,
	"UploadPart": true, "UploadPartCopy": true, "CompleteMultipartUpload": true}

// quotaFrees are the operations that may free bytes.
var quotaFrees = map[string]bool{"DeleteObject": true, "DeleteObjects": true, "AbortMultipartUpload": true}

type usage struct {
	bytes int64
	at    time.Time
}

// usageCache holds each quota'd user's counted usage.
type usageCache struct {
	mu     sync.Mutex
	byUser map[string]usage
}

// checkQuota refuses a write whose bucket owner's quota it would pass.
func (s *Server) checkQuota(r *request, op string) error {
	if quotaFrees[op] && r.bucket != "" {
		// Count again at the next write: the room this makes shows at once.
		s.quota.mu.Lock()
		delete(s.quota.byUser, s.cfg.Authorizer.Bucket(r.bucket).Owner)
		s.quota.mu.Unlock()
	}
	if !quotaWrites[op] || r.bucket == "" {
		return nil
	}
	owner := s.cfg.Authorizer.Bucket(r.bucket).Owner
	quota := s.cfg.Authorizer.Quota(owner)
	if owner == "" || quota <= 0 {
		return nil
	}
	size := r.ContentLength
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		size, _ = strconv.ParseInt(v, 10, 64)
	}
	if op != "PutObject" && op != "UploadPart" || size < 0 {
		size = 0 // a copy or a completion: refused only once the quota is used
	}
	used, err := s.usage(owner)
	if err != nil {
		return err
	}
	if used+size > quota || (size == 0 && used >= quota) {
		return ErrQuotaExceeded.WithMessage(fmt.Sprintf("The storage quota of %s (%d bytes) would be passed: %d bytes are stored, this write adds %d. Delete objects, or ask an admin to raise the quota.",
			owner, quota, used, size))
	}
	s.quota.mu.Lock()
	u := s.quota.byUser[owner]
	u.bytes += size
	s.quota.byUser[owner] = u
	s.quota.mu.Unlock()
	return nil
}

// usage returns the bytes in owner's buckets, recounting them when the last
// count is older than quotaRecount.
func (s *Server) usage(owner string) (int64, error) {
	s.quota.mu.Lock()
	if s.quota.byUser == nil {
		s.quota.byUser = map[string]usage{}
	}
	u, ok := s.quota.byUser[owner]
	s.quota.mu.Unlock()
	if ok && s.now().Sub(u.at) < quotaRecount {
		return u.bytes, nil
	}
	buckets, err := s.idx.Buckets()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, b := range buckets {
		if b.Owner != owner {
			continue
		}
		after := ""
		for {
			objs, more, err := s.idx.ListObjects(b.Name, "", after, 1000)
			if err != nil {
				return 0, err
			}
			for _, o := range objs {
				total += o.Size
			}
			if !more || len(objs) == 0 {
				break
			}
			after = objs[len(objs)-1].Key
		}
		// Noncurrent versions take room too, and S3 bills them.
		if s.versions != nil {
			n, err := s.versions.NoncurrentBytes(b.Name)
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	s.quota.mu.Lock()
	s.quota.byUser[owner] = usage{bytes: total, at: s.now()}
	s.quota.mu.Unlock()
	return total, nil
}
