package gateway

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// copySource parses x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded,
// optionally with "?versionId=".
func copySource(v string) (bucket, key, versionID string, err error) {
	path, query, _ := strings.Cut(v, "?")
	if query != "" {
		q, perr := url.ParseQuery(query)
		if perr != nil {
			return "", "", "", s3err.ErrInvalidArgument.WithMessage("Invalid copy source version id.")
		}
		versionID = q.Get("versionId")
	}
	path, perr := url.PathUnescape(path)
	if perr != nil {
		return "", "", "", s3err.ErrInvalidArgument.WithMessage("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", s3err.ErrInvalidArgument.WithMessage("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	return bucket, key, versionID, nil
}

// sourceObject returns the object named by x-amz-copy-source, checking the copy
// conditions.
func (s *Server) sourceObject(r *request) (queue.Object, error) {
	bucket, key, versionID, err := copySource(r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return queue.Object{}, err
	}
	src, err := s.idx.Object(bucket, key)
	if err != nil {
		if errors.Is(err, queue.ErrNoSuchKey) || errors.Is(err, queue.ErrNoSuchBucket) {
			return queue.Object{}, s.objectOrBucketError(&request{Request: r.Request, bucket: bucket, key: key}, err)
		}
		return queue.Object{}, err
	}
	if versionID != "" && versionID != "null" && versionID != src.VersionID {
		return queue.Object{}, s3err.ErrNoSuchVersion
	}
	if err := checkConditions(r.Header, "X-Amz-Copy-Source-", src); err != nil {
		return queue.Object{}, err
	}
	return src, nil
}

// copyObject makes a new object version with the source's bytes. Blobs are content
// addressed, so no byte is copied: the new version names the same blob (or parts).
func (s *Server) copyObject(w *responseWriter, r *request) error {
	if err := checkKey(r.key); err != nil {
		return err
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	algo, err := copyChecksumAlgorithm(r.Header)
	if err != nil {
		return err
	}
	src, err := s.sourceObject(r)
	if err != nil {
		return err
	}
	if src.Size > s.cfg.MaxObjectSize {
		return s3err.ErrEntityTooLarge
	}
	now := s.now()
	o := src
	o.Bucket, o.Key, o.VersionID, o.ModTime = r.bucket, r.key, queue.NewVersionID(now), now
	o.Metadata = maps.Clone(src.Metadata)
	switch d := strings.ToUpper(r.Header.Get("X-Amz-Metadata-Directive")); d {
	case "", "COPY":
		if src.Bucket == r.bucket && src.Key == r.key {
			return s3err.ErrInvalidRequest.WithMessage("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
	case "REPLACE":
		if o.ContentType, o.Metadata, err = metadataFromRequest(r.Header); err != nil {
			return err
		}
	default:
		return s3err.ErrInvalidArgument.WithMessage("Unknown metadata directive.")
	}
	if o.Checksums, err = s.copyChecksums(r, src, algo); err != nil {
		return err
	}
	if err := s.idx.PutObject(r.Context(), o); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, copyObjectResult{CopyObjectResult: gofakes3.CopyObjectResult{ETag: `"` + o.ETag + `"`,
		LastModified: gofakes3.NewContentTime(now)}, checksumFields: newChecksumFields(o.Checksums), ChecksumType: string(checksumType(o.Checksums))})
}

// maxDeleteObjects is S3's limit on keys in one DeleteObjects request.
const maxDeleteObjects = 1000

func (s *Server) deleteObjects(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	raw, err := s.readXML(w, r)
	if err != nil {
		return err
	}
	var req gofakes3.DeleteRequest
	if err := decodeXML(raw, &req); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > maxDeleteObjects {
		return s3err.ErrMalformedXML
	}
	out := gofakes3.MultiDeleteResult{}
	for _, obj := range req.Objects {
		err := checkKey(obj.Key)
		if err == nil {
			err = s.idx.DeleteObject(r.Context(), r.bucket, obj.Key, queue.NewVersionID(s.now()))
		}
		if err != nil {
			e := toAPIError(err)
			if e == s3err.ErrInternalError {
				r.log.Error().Err(err).Str("bucket", r.bucket).Str("key", obj.Key).Msg("delete objects")
			}
			out.Error = append(out.Error, gofakes3.ErrorResult{Key: obj.Key, Code: gofakes3.ErrorCode(e.Code), Message: e.Message})
			continue
		}
		if !req.Quiet {
			out.Deleted = append(out.Deleted, gofakes3.ObjectID{Key: obj.Key})
		}
	}
	return writeXML(w, http.StatusOK, deleteResult{Xmlns: s3Namespace, MultiDeleteResult: out})
}

// deleteResult adds the namespace gofakes3's type leaves out.
type deleteResult struct {
	Xmlns string `xml:"xmlns,attr"`
	gofakes3.MultiDeleteResult
}
