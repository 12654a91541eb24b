package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// errTaggingRace answers a tagging change that lost to a concurrent write of
// the object: the tags were meant for the bytes that were replaced.
var errTaggingRace = s3err.ErrConditionalRequestConflict

// routeObjectTagging serves PutObjectTagging, GetObjectTagging and
// DeleteObjectTagging. Tags are kept where x-amz-tagging puts them, in the
// object's metadata; changing them journals a new version that names the
// same bytes (as a copy onto itself does) and keeps LastModified, so the
// remote copy gets the new tags with its next upload.
func (s *Server) routeObjectTagging(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet:
		o, err := s.readObject(w, r)
		if err != nil {
			return err
		}
		return writeXML(w, http.StatusOK, tagging{Xmlns: s3Namespace, TagSet: decodeTags(o.Metadata[taggingKey])})
	case http.MethodPut:
		raw, err := s.readXML(w, r)
		if err != nil {
			return err
		}
		var t tagging
		if err := decodeXML(raw, &t); err != nil {
			return err
		}
		if err := checkTags(t.TagSet, maxObjectTags, errObjectTagLimit); err != nil {
			return err
		}
		return s.retag(w, r, encodeTags(t.TagSet), http.StatusOK)
	case http.MethodDelete:
		return s.retag(w, r, "", http.StatusNoContent)
	}
	return s3err.ErrMethodNotAllowed
}

// retag journals the current version of r's object again with tags (URL
// encoded, "" for none), on condition that it is still current.
func (s *Server) retag(w *responseWriter, r *request, tags string, status int) error {
	state, err := s.bucketVersioning(r.bucket)
	if err != nil {
		return err
	}
	if state != "" || r.URL.Query().Has("versionId") {
		return s.retagVersion(w, r, tags, status)
	}
	src, err := s.idx.Object(r.bucket, r.key)
	if err != nil {
		return err
	}
	release, err := s.pinSource(src)
	if err != nil {
		return err
	}
	defer release()
	o := src
	o.VersionID = queue.NewVersionID(s.now())
	o.Metadata = make(map[string]string, len(src.Metadata)+1)
	for k, v := range src.Metadata {
		o.Metadata[k] = v
	}
	delete(o.Metadata, taggingKey)
	if tags != "" {
		o.Metadata[taggingKey] = tags
	}
	err = s.objects.CommitIf(r.Context(), o, nil, queue.Condition{IfMatch: []string{src.ETag}})
	switch {
	case errors.Is(err, queue.ErrPreconditionFailed), errors.Is(err, queue.ErrNoSuchKey):
		return errTaggingRace
	case err != nil:
		return err
	}
	w.WriteHeader(status)
	return nil
}

// encodeTags writes a tag set as x-amz-tagging carries it.
func encodeTags(tags []tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = url.QueryEscape(t.Key) + "=" + url.QueryEscape(t.Value)
	}
	return strings.Join(parts, "&")
}

// decodeTags reads a stored x-amz-tagging value, in its order.
func decodeTags(v string) []tag {
	var out []tag
	for _, kv := range strings.Split(v, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		val, _ = url.QueryUnescape(val)
		out = append(out, tag{Key: k, Value: val})
	}
	return out
}

// retagVersion changes the tags of one version (?versionId, or the current
// one) in place: in a versioned bucket, tagging makes no new version.
func (s *Server) retagVersion(w *responseWriter, r *request, tags string, status int) error {
	o, err := s.readObject(w, r)
	if err != nil {
		return err
	}
	if s.versions == nil {
		return errNoVersioning
	}
	meta := make(map[string]string, len(o.Metadata)+1)
	for k, v := range o.Metadata {
		meta[k] = v
	}
	delete(meta, taggingKey)
	if tags != "" {
		meta[taggingKey] = tags
	}
	err = s.versions.SetVersionMetadata(r.Context(), r.bucket, r.key, o.S3VersionID(), meta)
	if errors.Is(err, queue.ErrNoSuchVersion) {
		return errTaggingRace // removed meanwhile
	}
	if err != nil {
		return err
	}
	w.WriteHeader(status)
	return nil
}
