package gateway

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/gateway/postpolicy"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// postResponse is the document of a POST upload with success_action_status 201.
type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// postObject is a browser form upload (POST to a bucket, multipart/form-data):
// the form's signature of its policy document is its authentication, the
// policy's conditions bound the fields and the file's size, and the file
// becomes an object as a PutObject's body would, durable before the answer.
// It runs before SigV4 authentication, which a form does not carry.
func (s *Server) postObject(w *responseWriter, r *request) error {
	body := &stallReader{r: r.Body, rc: http.NewResponseController(w), timeout: s.cfg.StallTimeout}
	f, err := readPostForm(r.Request, body)
	if err != nil {
		return err
	}
	accessKey, err := s.authenticatePost(f)
	if err != nil {
		return err
	}
	r.auth = &sigv4.Result{AccessKey: accessKey}
	policyField, _ := f.get("policy")
	policy, err := postpolicy.Parse(policyField, s.now())
	if err != nil {
		return err
	}
	f.set("bucket", r.bucket) // conditions see the bucket written to, whatever the form says
	if err := policy.Check(f.fields); err != nil {
		return err
	}
	if err := s.checkBucket(r); err != nil {
		return err
	}
	key, ok := f.get("key")
	if !ok {
		return errPostMissingField("key")
	}
	key = strings.ReplaceAll(key, "${filename}", f.filename)
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.authorizePost(r, accessKey, key); err != nil {
		return err
	}
	// A form declares no size: refused before the file only once the quota
	// is used up, and once stored when the file passes it.
	if err := s.admitBytes(r.bucket, 0); err != nil {
		return err
	}
	h := f.header()
	if v, ok := f.get("tagging"); ok {
		// A form carries its tags as a Tagging document, not as x-amz-tagging.
		var t tagging
		if err := decodeXML([]byte(v), &t); err != nil {
			return err
		}
		if err := checkTags(t.TagSet, maxObjectTags, errObjectTagLimit); err != nil {
			return err
		}
		h.Set("X-Amz-Tagging", encodeTags(t.TagSet))
	}
	contentType, meta, err := metadataFromRequest(h)
	if err != nil {
		return err
	}
	rc, err := parseRequestChecksum(h, nil)
	if err != nil {
		return err
	}
	o, pinned, err := s.storePostFile(r, f, key, policy, rc)
	if err != nil {
		return err
	}
	defer s.objects.Unpin(pinned)
	if err := s.admitBytes(r.bucket, o.Size); err != nil {
		return err
	}
	o.ContentType, o.Metadata = contentType, meta
	// A write-only key may not replace an object: the journal checks it
	// atomically with the write (authorizePost only refused early).
	var cond queue.Condition
	if r.noOverwrite {
		cond.IfNoneMatch = true
	}
	if err := s.objects.CommitIf(r.Context(), o, nil, cond); err != nil {
		return writeConditionError(r, err)
	}
	return writePostAnswer(w, r, f, o)
}

// storePostFile stores the form's file as a blob, pinned, and returns the
// object it makes; the caller commits it, then unpins its blob. The policy's content-length-range
// is checked as the file streams: a file over its maximum is counted to its
// end, never stored.
func (s *Server) storePostFile(r *request, f *postForm, key string, policy *postpolicy.Policy,
	rc requestChecksum) (queue.Object, store.Digest, error) {
	limit := s.cfg.MaxObjectSize
	if _, maxSize, ok := policy.LengthRange(); ok && maxSize < limit {
		limit = maxSize
	}
	b := &body{r: f.file, max: limit, size: -1, claimed: rc}
	if rc.algo != "" {
		b.sum = &runningSum{algorithm: rc.algo, h: rc.algo.New(), want: rc.want}
	}
	b.ComputeIfNone(checksum.Default)
	blob, err := s.objects.Put(r.Context(), b)
	if errors.Is(err, s3err.ErrEntityTooLarge) && limit < s.cfg.MaxObjectSize {
		rest, _ := io.Copy(io.Discard, io.LimitReader(f.file, s.cfg.MaxObjectSize))
		return queue.Object{}, store.Digest{}, policy.CheckLength(b.n + rest)
	}
	if err != nil {
		return queue.Object{}, store.Digest{}, err
	}
	if err := policy.CheckLength(blob.Size); err != nil {
		s.objects.Unpin(blob.Digest)
		return queue.Object{}, store.Digest{}, err
	}
	o := archive.NewObject(r.bucket, key, blob, s.now())
	o.Checksums = b.Checksums()
	return o, blob.Digest, nil
}

// writePostAnswer answers a stored upload as S3 does: a 303 to
// success_action_redirect with the bucket, key and ETag in its query, or the
// success_action_status (200, 201 with a PostResponse, 204 by default).
func writePostAnswer(w *responseWriter, r *request, f *postForm, o queue.Object) error {
	etag := `"` + o.ETag + `"`
	h := w.Header()
	h.Set("ETag", etag)
	location := objectURL(r, o.Key)
	h.Set("Location", location)
	redirect, ok := f.get("success_action_redirect")
	if !ok {
		redirect, ok = f.get("redirect")
	}
	if u, err := url.Parse(redirect); ok && err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		q := u.Query()
		q.Set("bucket", r.bucket)
		q.Set("key", o.Key)
		q.Set("etag", etag)
		u.RawQuery = q.Encode()
		h.Set("Location", u.String())
		w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	status, _ := f.get("success_action_status")
	switch status {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		return writeXML(w, http.StatusCreated, postResponse{Xmlns: s3Namespace, Location: location, Bucket: r.bucket, Key: o.Key, ETag: etag})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// objectURL is the URL of key in r's bucket, in the style r addressed it.
func objectURL(r *request, key string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	escaped := (&url.URL{Path: key}).EscapedPath()
	if strings.TrimPrefix(r.URL.Path, "/") == r.bucket || strings.TrimPrefix(r.URL.Path, "/") == r.bucket+"/" {
		return scheme + "://" + r.Host + "/" + r.bucket + "/" + escaped
	}
	return scheme + "://" + r.Host + "/" + escaped
}
