package gateway

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

type completeResult struct {
	XMLName xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	gofakes3.CompleteMultipartUploadResult
}

// completeUpload checks the client's part list, then (with the 200 status already
// sent, as S3 does, and a space every KeepAliveInterval so that nobody times the
// connection out) reads every part once to compute the object's SHA-256, and makes
// the object current. The parts stay where they are: the object is their
// concatenation, so a 100 GB upload never needs 100 GB more disk.
func (s *Server) completeUpload(w *responseWriter, r *request, uploadID string) error {
	u, err := s.upload(r, uploadID)
	if err != nil {
		return err
	}
	raw, err := s.readXML(w, r)
	if err != nil {
		return err
	}
	var req struct {
		Parts []gofakes3.CompletedPart `xml:"Part"`
	}
	if err := decodeXML(raw, &req); err != nil {
		return err
	}
	o, parts, err := s.chooseParts(u, req.Parts)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	write := func(b []byte) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(b)
		w.Flush()
	}
	write([]byte(xml.Header))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.cfg.KeepAliveInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				write([]byte(" "))
			}
		}
	}()
	err = s.finishUpload(r, uploadID, &o, parts)
	close(stop)
	wg.Wait()
	if err != nil {
		apiErr := toAPIError(err)
		if apiErr == s3err.ErrInternalError {
			r.log.Error().Err(err).Str("upload_id", uploadID).Msg("complete multipart upload")
		}
		body := s3err.ErrorBody(r.Request, r.id, apiErr)
		write(body[len(xml.Header):])
		return nil
	}
	body, _ := xml.Marshal(completeResult{Xmlns: s3Namespace, CompleteMultipartUploadResult: gofakes3.CompleteMultipartUploadResult{
		Location: "/" + r.bucket + "/" + r.key, Bucket: r.bucket, Key: r.key, ETag: `"` + o.ETag + `"`}})
	write(body)
	return nil
}

// chooseParts validates the client's list against the journaled parts and returns the
// object to be made current (without its SHA-256) and the chosen parts.
func (s *Server) chooseParts(u queue.Upload, list []gofakes3.CompletedPart) (queue.Object, []queue.UploadPart, error) {
	if len(list) == 0 {
		return queue.Object{}, nil, s3err.ErrMalformedXML.WithMessage("You must specify at least one part.")
	}
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
			return queue.Object{}, nil, s3err.ErrEntityTooSmall.WithMessage("Part " + strconv.Itoa(p.Number) + " is smaller than the minimum part size.")
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

// finishUpload hashes the whole object (mostly done ahead, see uploadHashes), then
// commits it.
func (s *Server) finishUpload(r *request, uploadID string, o *queue.Object, parts []queue.UploadPart) error {
	sum, err := s.objectSHA256(r.Context(), uploadID, parts)
	if err != nil {
		return err
	}
	o.SHA256 = sum
	if err := s.uploads.CompleteUpload(r.Context(), uploadID, *o); err != nil {
		if errors.Is(err, queue.ErrNoSuchUpload) {
			return s3err.ErrNoSuchUpload
		}
		return err
	}
	return nil
}
