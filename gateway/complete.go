package gateway

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

type completeResult struct {
	XMLName xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	gofakes3.CompleteMultipartUploadResult
	checksumFields
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// completeUpload checks the client's part list, then (past KeepAliveInterval with
// the 200 status sent and a space every interval, see keepAlive) reads every part
// once to compute the object's SHA-256, and makes the object current. The parts
// stay where they are: the object is their concatenation, so a 100 GB upload never
// needs 100 GB more disk.
func (s *Server) completeUpload(w *responseWriter, r *request, uploadID string) error {
	hdr, err := parseCompleteHeaders(r.Header)
	if err != nil {
		return err
	}
	u, _, uerr := s.uploadPage(r, uploadID, 0, -1)
	if uerr != nil && !errors.Is(uerr, s3err.ErrNoSuchUpload) {
		return uerr
	}
	// The x-amz-checksum-* headers are the object's checksum, not the body's.
	raw, err := s.readXMLBody(w, r, false)
	var list []gofakes3.CompletedPart
	if err == nil {
		list, err = parsePartList(raw)
	}
	if uerr != nil {
		// A completion retried after it went through (or that lost a race with an
		// identical one) gets the same answer again, as in S3.
		if err == nil {
			if o, ok := s.completedBefore(r, list); ok {
				return writeXML(w, http.StatusOK, s.completeResult(r, o))
			}
		}
		return uerr
	}
	if err != nil {
		return err
	}
	var claims completedPartChecksums
	if err := decodeXML(raw, &claims); err != nil {
		return err
	}
	cond, err := s.checkWriteConditions(r, r.bucket, r.key)
	if err != nil {
		return err
	}
	o, parts, err := s.chooseParts(u, list)
	if err != nil {
		return err
	}
	sum, err := completeChecksum(u, hdr, claims, parts, o.Size)
	if err != nil {
		return err
	}
	s.writeVersionID(w.Header(), r.bucket, o.VersionID)
	ka := startKeepAlive(w, s.cfg.KeepAliveInterval)
	err = s.finishUpload(r, uploadID, &o, parts, sum, cond)
	streaming := ka.finish()
	if errors.Is(err, s3err.ErrNoSuchUpload) {
		if done, ok := s.completedBefore(r, list); ok {
			o, err = done, nil
		}
	}
	if !streaming {
		if err != nil {
			return err
		}
		return writeXML(w, http.StatusOK, s.completeResult(r, o))
	}
	// The 200 is out: an error can only be an Error document in its body.
	var body []byte
	if err != nil {
		apiErr := toAPIError(err)
		if apiErr == s3err.ErrInternalError {
			r.log.Error().Err(err).Str("upload_id", uploadID).Msg("complete multipart upload")
		}
		body = s3err.ErrorBody(r.Request, r.id, apiErr)[len(xml.Header):]
	} else {
		body, _ = xml.Marshal(s.completeResult(r, o))
	}
	_, _ = w.Write(body) // a client that went away has nothing left to learn
	return nil
}

// chooseParts validates the client's list against the journaled parts and returns the
// object to be made current (without its SHA-256) and the chosen parts.
func (s *Server) chooseParts(u queue.Upload, list []gofakes3.CompletedPart) (queue.Object, []queue.UploadPart, error) {
	if len(list) > s.cfg.MaxParts {
		return queue.Object{}, nil, s3err.ErrInvalidArgument.WithMessage("Too many parts.")
	}
	for i := 1; i < len(list); i++ {
		if list[i].PartNumber <= list[i-1].PartNumber {
			return queue.Object{}, nil, s3err.ErrInvalidPartOrder
		}
	}
	byNumber := make(map[int]queue.UploadPart, len(u.Parts))
	for _, p := range u.Parts {
		byNumber[p.Number] = p
	}
	var parts []queue.UploadPart
	md5s := md5.New()
	var size int64
	for _, c := range list {
		p, ok := byNumber[c.PartNumber]
		if !ok || strings.Trim(strings.TrimSpace(c.ETag), `"`) != p.ETag {
			return queue.Object{}, nil, s3err.ErrInvalidPart
		}
		raw, err := hex.DecodeString(p.ETag)
		if err != nil {
			return queue.Object{}, nil, s3err.ErrInvalidPart
		}
		md5s.Write(raw)
		size += p.Size
		parts = append(parts, p)
	}
	for _, p := range parts[:len(parts)-1] {
		if p.Size < s.cfg.MinPartSize {
			return queue.Object{}, nil, s3err.ErrEntityTooSmall
		}
	}
	if size > s.cfg.MaxObjectSize {
		return queue.Object{}, nil, s3err.ErrEntityTooLarge
	}
	now := s.now()
	o := queue.Object{Bucket: u.Bucket, Key: u.Key, VersionID: queue.NewVersionID(now), Size: size,
		ETag: hex.EncodeToString(md5s.Sum(nil)) + "-" + strconv.Itoa(len(parts)), ContentType: u.ContentType,
		Metadata: u.Metadata, ModTime: now}
	for _, p := range parts {
		o.Parts = append(o.Parts, queue.ObjectPart{Blob: p.Blob, Size: p.Size})
	}
	return o, parts, nil
}

// finishUpload hashes the whole object (mostly done ahead, see uploadHashes) and
// computes its checksum when sum has no value yet, then commits it.
func (s *Server) finishUpload(r *request, uploadID string, o *queue.Object, parts []queue.UploadPart, sum objectChecksum, cond queue.Condition) error {
	var extra checksum.Algorithm
	if sum.value == "" {
		extra = sum.algo
	}
	sha, digest, err := s.objectHashes(r.Context(), uploadID, parts, extra)
	if err != nil {
		return err
	}
	o.SHA256 = sha
	if extra != "" {
		sum.value = checksum.Encode(digest)
	}
	o.Checksums = map[string]string{string(sum.algo): sum.value}
	if err := s.uploads.CompleteUploadIf(r.Context(), uploadID, *o, cond); err != nil {
		if errors.Is(err, queue.ErrNoSuchUpload) {
			return s3err.ErrNoSuchUpload
		}
		return conditionalWriteError(err)
	}
	return nil
}
