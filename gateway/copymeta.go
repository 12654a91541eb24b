package gateway

import (
	"maps"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// copyMetadata returns the content type and metadata of a copy of src made by r,
// following x-amz-metadata-directive and x-amz-tagging-directive as S3 does: COPY
// keeps the source's (but never its website redirect, which only the request can
// set), REPLACE takes the request's. The request's metadata headers are checked
// either way.
func copyMetadata(r *request, src queue.Object) (string, map[string]string, error) {
	reqType, reqMeta, err := metadataFromRequest(r.Header)
	if err != nil {
		return "", nil, err
	}
	tagging := strings.ToUpper(r.Header.Get("X-Amz-Tagging-Directive"))
	if tagging != "" && tagging != "COPY" && tagging != "REPLACE" {
		return "", nil, s3err.ErrInvalidArgument.WithMessage("Unknown tagging directive.")
	}
	contentType, meta := src.ContentType, maps.Clone(src.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	redirect := r.Header.Get(websiteRedirectHeader)
	switch strings.ToUpper(r.Header.Get("X-Amz-Metadata-Directive")) {
	case "", "COPY":
		// Copying a version by its ID onto its key is how S3 restores it.
		_, _, version, _ := copySource(r.Header.Get("X-Amz-Copy-Source"))
		if src.Bucket == r.bucket && src.Key == r.key && redirect == "" && tagging != "REPLACE" && version == "" {
			return "", nil, s3err.ErrInvalidRequest.WithMessage("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
		delete(meta, websiteRedirectHeader)
		if redirect != "" {
			meta[websiteRedirectHeader] = redirect
		}
	case "REPLACE":
		contentType, meta = reqType, maps.Clone(reqMeta)
		if meta == nil {
			meta = map[string]string{}
		}
	default:
		return "", nil, s3err.ErrInvalidArgument.WithMessage("Unknown metadata directive.")
	}
	if tagging == "REPLACE" {
		delete(meta, taggingKey)
		if v, ok := reqMeta[taggingKey]; ok {
			meta[taggingKey] = v
		}
	} else {
		delete(meta, taggingKey)
		if v, ok := src.Metadata[taggingKey]; ok {
			meta[taggingKey] = v
		}
	}
	if len(meta) == 0 {
		meta = nil
	}
	return contentType, meta, nil
}
