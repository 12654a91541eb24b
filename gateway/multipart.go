package gateway

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// uploadIndex is the part of the journal that keeps multipart uploads (*queue.Node).
type uploadIndex interface {
	CreateUpload(ctx context.Context, u queue.Upload) error
	PutUploadPart(ctx context.Context, uploadID string, p queue.UploadPart) error
	AbortUpload(ctx context.Context, uploadID string) error
	CompleteUploadIf(ctx context.Context, uploadID string, o queue.Object, cond queue.Condition) error
	// UploadPage returns an upload with at most limit of its parts, those
	// after afterPart (none for limit 0, all for a negative limit), and
	// whether more follow.
	UploadPage(id string, afterPart, limit int) (queue.Upload, bool, error)
	ListUploads(bucket, prefix, keyMarker, uploadIDMarker string, limit int) ([]queue.Upload, bool, error)
}

// initMultipart enables multipart uploads when the index journals them.
func (s *Server) initMultipart() {
	s.uploads, _ = s.idx.(uploadIndex)
}

var errNoMultipart = s3err.ErrNotImplemented.WithMessage("Multipart uploads are not available: the index does not journal them.")

// newUploadID returns the creation time in nanoseconds (16 hex digits) followed by
// 32 random hex digits: upload IDs must not be guessable, and IDs that sort in
// creation order make ListMultipartUploads list the uploads of a key in the order
// they were initiated, as S3 does.
func newUploadID(now time.Time) string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	_, _ = rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}

func (s *Server) createUpload(w *responseWriter, r *request) error {
	if s.uploads == nil {
		return errNoMultipart
	}
	if err := checkKey(r.key); err != nil {
		return err
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	contentType, meta, err := metadataFromRequest(r.Header)
	if err != nil {
		return err
	}
	algo, typ, err := parseUploadChecksum(r.Header)
	if err != nil {
		return err
	}
	now := s.now()
	u := queue.Upload{ID: newUploadID(now), Bucket: r.bucket, Key: r.key, Created: now, ContentType: contentType,
		Metadata: meta, ChecksumAlgorithm: string(algo), ChecksumType: string(typ)}
	if err := s.uploads.CreateUpload(r.Context(), u); err != nil {
		return err
	}
	writeUploadChecksum(w.Header(), u)
	return writeXML(w, http.StatusOK, initiateResult{Xmlns: s3Namespace,
		InitiateMultipartUploadResult: gofakes3.InitiateMultipartUploadResult{Bucket: r.bucket, Key: r.key, UploadID: gofakes3.UploadID(u.ID)}})
}

type initiateResult struct {
	XMLName xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	gofakes3.InitiateMultipartUploadResult
}

// upload returns the upload uploadID of the request's bucket and key, without
// its parts: an UploadPart costs the same at part 10,000 as at part 1.
func (s *Server) upload(r *request, uploadID string) (queue.Upload, error) {
	u, _, err := s.uploadPage(r, uploadID, 0, 0)
	return u, err
}

// uploadPage is upload with up to limit parts after afterPart (all of them
// for a negative limit), and whether more follow.
func (s *Server) uploadPage(r *request, uploadID string, afterPart, limit int) (queue.Upload, bool, error) {
	if s.uploads == nil {
		return queue.Upload{}, false, errNoMultipart
	}
	u, truncated, err := s.uploads.UploadPage(uploadID, afterPart, limit)
	if errors.Is(err, queue.ErrNoSuchUpload) || (err == nil && (u.Bucket != r.bucket || u.Key != r.key)) {
		if err := s.checkBucket(r); err != nil {
			return queue.Upload{}, false, err // S3 names the missing bucket before the upload
		}
		return queue.Upload{}, false, s3err.ErrNoSuchUpload
	}
	return u, truncated, err
}

// partNumber parses the partNumber query parameter: 1 to MaxParts.
func (s *Server) partNumber(r *request) (int, error) {
	n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
	if err != nil || n < 1 || n > s.cfg.MaxParts {
		return 0, s3err.ErrInvalidArgument.WithMessage(partNumberMessage(s.cfg.MaxParts))
	}
	return n, nil
}

func (s *Server) uploadPart(w *responseWriter, r *request, uploadID string) error {
	n, err := s.partNumber(r)
	if err != nil {
		return err
	}
	u, err := s.upload(r, uploadID)
	if err != nil {
		return err
	}
	b, err := s.newBody(w, r, s.cfg.MaxPartSize, true)
	if err != nil {
		return err
	}
	if err := checkPartChecksum(u, b); err != nil {
		return err
	}
	blob, err := s.putBody(r.Context(), b)
	if err != nil {
		return err
	}
	defer s.objects.Unpin(blob.Digest)
	p := queue.UploadPart{Number: n, Blob: blob.Digest.String(), Size: blob.Size, ETag: archive.ETag(blob),
		Checksums: b.Checksums(), ModTime: s.now()}
	if err := s.uploads.PutUploadPart(r.Context(), uploadID, p); err != nil {
		if errors.Is(err, queue.ErrNoSuchUpload) {
			return s3err.ErrNoSuchUpload
		}
		return err
	}
	s.hashAhead(u, p)
	w.Header().Set("ETag", `"`+p.ETag+`"`)
	writeChecksums(w.Header(), p.Checksums, false)
	w.WriteHeader(http.StatusOK)
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name             `xml:"CopyPartResult"`
	Xmlns        string               `xml:"xmlns,attr"`
	ETag         string               `xml:"ETag"`
	LastModified gofakes3.ContentTime `xml:"LastModified"`
	checksumFields
}

// uploadPartCopy makes a part from a range of an existing object. A whole
// single-blob source is reused as is; anything else is read and stored as a new blob.
func (s *Server) uploadPartCopy(w *responseWriter, r *request, uploadID string) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	n, err := s.partNumber(r)
	if err != nil {
		return err
	}
	srcBucket, srcKey, srcVersion, err := copySource(r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	u, err := s.upload(r, uploadID)
	if err != nil {
		return err
	}
	src, err := s.copySourceObject(r, srcBucket, srcKey, srcVersion)
	if err != nil {
		return err
	}
	release, err := s.pinSource(src)
	if err != nil {
		return err
	}
	defer release()
	off, length, ranged := int64(0), src.Size, false
	if v := r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		if off, length, err = copySourceRange(v, src.Size); err != nil {
			return err
		}
		ranged = true
	}
	if length > s.cfg.MaxPartSize {
		return s3err.ErrEntityTooLarge
	}
	now := s.now()
	p := queue.UploadPart{Number: n, ModTime: now}
	algo, sum := partChecksum(u, src, !ranged)
	if !ranged && len(src.Parts) == 0 && len(src.ETag) == 2*md5.Size {
		p.Blob, p.Size, p.ETag = src.Blob, src.Size, src.ETag
		if algo != "" && sum == "" {
			if sum, err = s.hashObject(r, src, algo); err != nil {
				return err
			}
		}
	} else {
		rc, err := s.openObject(r, src, off, length)
		if err != nil {
			return err
		}
		hr := newHashingReader(rc, algo)
		blob, err := s.objects.Put(r.Context(), hr)
		rc.Close()
		if err != nil {
			return err
		}
		defer s.objects.Unpin(blob.Digest)
		p.Blob, p.Size, p.ETag = blob.Digest.String(), blob.Size, archive.ETag(blob)
		if algo != "" && sum == "" {
			sum = hr.Value()
		}
	}
	if algo != "" {
		p.Checksums = map[string]string{string(algo): sum}
	}
	if err := s.uploads.PutUploadPart(r.Context(), uploadID, p); err != nil {
		if errors.Is(err, queue.ErrNoSuchUpload) {
			return s3err.ErrNoSuchUpload
		}
		return err
	}
	s.hashAhead(u, p)
	s.writeCopySourceVersion(w.Header(), src)
	return writeXML(w, http.StatusOK, copyPartResult{Xmlns: s3Namespace, ETag: `"` + p.ETag + `"`, LastModified: gofakes3.NewContentTime(now),
		checksumFields: newChecksumFields(p.Checksums)})
}

func (s *Server) abortUpload(w *responseWriter, r *request, uploadID string) error {
	u, err := s.upload(r, uploadID)
	if err != nil {
		return err
	}
	if err := checkInitiated(r, u, s.now()); err != nil {
		return err
	}
	if err := s.uploads.AbortUpload(r.Context(), uploadID); err != nil {
		if errors.Is(err, queue.ErrNoSuchUpload) {
			return s3err.ErrNoSuchUpload
		}
		return err
	}
	s.partHashes.forget(uploadID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxListParts is S3's cap on max-parts and max-uploads.
const maxListParts = 1000

func queryInt(r *request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	return parseListInt(v)
}

func (s *Server) listParts(w *responseWriter, r *request, uploadID string) error {
	marker, err := queryInt(r, "part-number-marker", 0)
	if err != nil {
		return err
	}
	max, err := queryInt(r, "max-parts", maxListParts)
	if err != nil {
		return err
	}
	max = min(max, maxListParts)
	// max-parts=0 lists nothing, and is truncated if any part follows.
	u, truncated, err := s.uploadPage(r, uploadID, marker, cmp.Or(max, 1))
	if err != nil {
		return err
	}
	if max == 0 {
		truncated, u.Parts = len(u.Parts) > 0, nil
	}
	out := gofakes3.ListMultipartUploadPartsResult{Bucket: u.Bucket, Key: u.Key, UploadID: gofakes3.UploadID(u.ID),
		StorageClass: gofakes3.StorageStandard, PartNumberMarker: marker, MaxParts: int64(max), IsTruncated: truncated,
		Owner: &gofakes3.UserInfo{ID: r.owner(), DisplayName: r.owner()}, Initiator: &gofakes3.UserInfo{ID: r.owner(), DisplayName: r.owner()}}
	for _, p := range u.Parts {
		out.Parts = append(out.Parts, gofakes3.ListMultipartUploadPartItem{PartNumber: p.Number,
			LastModified: gofakes3.NewContentTime(p.ModTime), ETag: `"` + p.ETag + `"`, Size: p.Size})
		out.NextPartNumberMarker = p.Number
	}
	return writeXML(w, http.StatusOK, withChecksums(out, u))
}
