package gateway

import (
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

type listUploadsResult struct {
	XMLName xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	gofakes3.ListMultipartUploadsResult
	Uploads []listUploadsItem `xml:"Upload"` // with checksum settings
}

var errUploadIDMarker = s3err.ErrInvalidArgument.WithMessage("Invalid uploadId marker")

// listUploads answers ListMultipartUploads: uploads ordered by key, then by
// initiation (upload IDs sort that way), rolled up into common prefixes under a
// delimiter; max-uploads counts both.
func (s *Server) listUploads(w *responseWriter, r *request) error {
	if s.uploads == nil {
		return errNoMultipart
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	q := r.URL.Query()
	max, err := queryInt(r, "max-uploads", maxListParts)
	if err != nil {
		return err
	}
	max = min(max, maxListParts)
	prefix, delim, keyMarker, idMarker := q.Get("prefix"), q.Get("delimiter"), q.Get("key-marker"), q.Get("upload-id-marker")
	if keyMarker == "" {
		idMarker = "" // as in S3: an upload-id-marker counts only with a key-marker
	}
	out := gofakes3.ListMultipartUploadsResult{Bucket: r.bucket, KeyMarker: keyMarker,
		UploadIDMarker: gofakes3.UploadID(idMarker), MaxUploads: int64(max), Prefix: prefix, Delimiter: delim}
	afterKey, afterID := keyMarker, ""
	if idMarker != "" {
		if afterKey, afterID, err = s.uploadMarker(r.bucket, keyMarker, idMarker); err != nil {
			return err
		}
	}
	user := &gofakes3.UserInfo{ID: r.owner(), DisplayName: r.owner()}
	var items []listUploadsItem
	count := 0
	for max > 0 && !out.IsTruncated {
		ups, more, err := s.uploads.ListUploads(r.bucket, prefix, afterKey, afterID, max-count+1)
		if err != nil {
			return err
		}
		jumped := false
		for _, u := range ups {
			if count == max {
				out.IsTruncated = true
				break
			}
			count++
			out.NextUploadIDMarker = gofakes3.UploadID(u.ID)
			if cp, ok := commonPrefix(u.Key, prefix, delim); ok {
				out.CommonPrefixes = append(out.CommonPrefixes, gofakes3.CommonPrefix{Prefix: cp})
				out.NextKeyMarker = cp
				afterKey, afterID, jumped = cp+skipPast, "", true
				break // skip every other upload under cp with one seek
			}
			out.Uploads = append(out.Uploads, gofakes3.ListMultipartUploadItem{Key: u.Key, UploadID: gofakes3.UploadID(u.ID),
				StorageClass: gofakes3.StorageStandard, Initiated: gofakes3.NewContentTime(u.Created), Owner: user, Initiator: user})
			items = append(items, newListUploadsItem(out.Uploads[len(out.Uploads)-1], u))
			out.NextKeyMarker = u.Key
			afterKey, afterID = u.Key, u.ID
		}
		if !jumped && !more {
			break
		}
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = "", ""
	}
	return writeXML(w, http.StatusOK, listUploadsResult{Xmlns: s3Namespace, ListMultipartUploadsResult: out, Uploads: items})
}

// uploadMarker returns where a listing resumes for key-marker and
// upload-id-marker: after that upload of keyMarker or, when the marker names an
// upload of the first key after keyMarker (a page that ended on a common prefix
// hands back the prefix and the upload that made it), after that upload. An
// upload ID the gateway cannot have issued, or an upload of another key, is
// InvalidArgument; an upload that has ended since is resumed after by ID order.
func (s *Server) uploadMarker(bucket, keyMarker, idMarker string) (string, string, error) {
	if !isUploadID(idMarker) {
		return "", "", errUploadIDMarker
	}
	u, _, err := s.uploads.UploadPage(idMarker, 0, 0) // without its parts
	if errors.Is(err, queue.ErrNoSuchUpload) {
		return keyMarker, idMarker, nil
	}
	if err != nil {
		return "", "", err
	}
	if u.Bucket != bucket || u.Key < keyMarker {
		return "", "", errUploadIDMarker
	}
	if u.Key == keyMarker {
		return keyMarker, idMarker, nil
	}
	first, _, err := s.uploads.ListUploads(bucket, "", keyMarker, "", 1)
	if err != nil {
		return "", "", err
	}
	if len(first) == 0 || first[0].Key != u.Key {
		return "", "", errUploadIDMarker
	}
	return u.Key, idMarker, nil
}

// isUploadID reports whether id has the form of an upload ID the gateway issues
// (48 hex digits; 32 before IDs began with their creation time).
func isUploadID(id string) bool {
	if len(id) != 48 && len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
