package gateway

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// completedPart is one <Part> of a CompleteMultipartUpload body; pointers tell a
// missing element from a zero one.
type completedPart struct {
	PartNumber *int    `xml:"PartNumber"`
	ETag       *string `xml:"ETag"`
}

// parsePartList parses the part list of a CompleteMultipartUpload. As in S3, an empty
// list or a part without its number or ETag is MalformedXML, and a number below 1
// is InvalidArgument.
func parsePartList(raw []byte) ([]gofakes3.CompletedPart, error) {
	var req struct {
		Parts []completedPart `xml:"Part"`
	}
	if err := decodeXML(raw, &req); err != nil {
		return nil, err
	}
	if len(req.Parts) == 0 {
		return nil, s3err.ErrMalformedXML
	}
	list := make([]gofakes3.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		if p.PartNumber == nil || p.ETag == nil {
			return nil, s3err.ErrMalformedXML
		}
		if *p.PartNumber < 1 {
			return nil, s3err.ErrInvalidArgument.WithMessage("PartNumber must be >= 1")
		}
		list[i] = gofakes3.CompletedPart{PartNumber: *p.PartNumber, ETag: *p.ETag}
	}
	return list, nil
}

// listETag is the ETag S3 gives the object completed from list: the MD5 of
// the parts' binary MD5s, then "-" and the part count.
func listETag(list []gofakes3.CompletedPart) (string, bool) {
	h := md5.New()
	for _, c := range list {
		raw, err := hex.DecodeString(strings.Trim(strings.TrimSpace(c.ETag), `"`))
		if err != nil || len(raw) != md5.Size {
			return "", false
		}
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(list)), true
}

// completedBefore reports whether the request's key already holds the object that
// completing list makes: its ETag names exactly these parts' contents, so answering
// with it is answering the completion that was asked for.
func (s *Server) completedBefore(r *request, list []gofakes3.CompletedPart) (queue.Object, bool) {
	etag, ok := listETag(list)
	if !ok {
		return queue.Object{}, false
	}
	o, err := s.idx.Object(r.bucket, r.key)
	if err != nil {
		if !errors.Is(err, queue.ErrNoSuchKey) {
			r.log.Warn().Err(err).Str("bucket", r.bucket).Str("key", r.key).Msg("complete multipart upload: read current object")
		}
		return queue.Object{}, false
	}
	return o, o.ETag == etag
}

// completeResult is the answer to a successful CompleteMultipartUpload.
func (s *Server) completeResult(r *request, o queue.Object) completeResult {
	return completeResult{Xmlns: s3Namespace, CompleteMultipartUploadResult: gofakes3.CompleteMultipartUploadResult{
		Location: s.objectURL(r), Bucket: r.bucket, Key: r.key, ETag: `"` + o.ETag + `"`},
		checksumFields: newChecksumFields(o.Checksums), ChecksumType: string(checksumType(o.Checksums))}
}

// objectURL is the absolute URL of the request's object, in the style (path or
// virtual host) the request used.
func (s *Server) objectURL(r *request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := "/" + r.key
	if _, virtual := s.virtualHostBucket(r.Host); !virtual {
		path = "/" + r.bucket + path
	}
	return scheme + "://" + r.Host + (&url.URL{Path: path}).EscapedPath()
}
