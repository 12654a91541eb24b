package console

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/ipas/ipas/admin"
)

// MaxUploadBytes bounds one file uploaded from the browser: S3's limit of a
// single PUT.
const MaxUploadBytes = 5 << 30

var errNoArchive = &apiError{http.StatusNotImplemented, "NotImplemented", "this daemon does not offer this page"}

// pageEndpoints are the JSON endpoints of the Browse, Remote, Drop folders
// and Log pages: the admin API's (admin.Archive, admin.Diagnostics) behind
// the console's session.
func (s *Server) pageEndpoints() []endpoint {
	arch := func(fn func(ctx context.Context, r *http.Request, a admin.Archive) (any, error)) func(context.Context, *http.Request, *session) (any, error) {
		return func(ctx context.Context, r *http.Request, _ *session) (any, error) {
			if s.archive == nil {
				return nil, errNoArchive
			}
			return fn(ctx, r, s.archive)
		}
	}
	diag := func(fn func(ctx context.Context, r *http.Request, d admin.Diagnostics) (any, error)) func(context.Context, *http.Request, *session) (any, error) {
		return func(ctx context.Context, r *http.Request, _ *session) (any, error) {
			if s.diagnostics == nil {
				return nil, errNoArchive
			}
			return fn(ctx, r, s.diagnostics)
		}
	}
	return []endpoint{
		{"GET /api/v1/buckets", false, arch(func(ctx context.Context, _ *http.Request, a admin.Archive) (any, error) {
			return a.Buckets(ctx)
		})},
		{"POST /api/v1/buckets", true, arch(func(ctx context.Context, r *http.Request, a admin.Archive) (any, error) {
			var req admin.CreateBucketRequest
			if err := decodeJSON(r, &req); err != nil {
				return nil, err
			}
			return nil, a.CreateBucket(ctx, strings.TrimSpace(req.Name))
		})},
		{"GET /api/v1/objects", false, arch(func(ctx context.Context, r *http.Request, a admin.Archive) (any, error) {
			req, err := admin.ParseListRequest(r.URL.Query())
			if err != nil {
				return nil, err
			}
			return a.ListObjects(ctx, req)
		})},
		{"POST /api/v1/objects/delete", true, arch(func(ctx context.Context, r *http.Request, a admin.Archive) (any, error) {
			var ref admin.ObjectRef
			if err := decodeJSON(r, &ref); err != nil {
				return nil, err
			}
			return nil, a.DeleteObject(ctx, ref)
		})},
		{"PUT /api/v1/objects/upload", true, arch(func(ctx context.Context, r *http.Request, a admin.Archive) (any, error) {
			q := r.URL.Query()
			ref := admin.ObjectRef{Bucket: q.Get("bucket"), Key: q.Get("key")}
			if ref.Bucket == "" || ref.Key == "" {
				return nil, &apiError{http.StatusBadRequest, "InvalidRequest", "name the object: ?bucket=NAME&key=KEY"}
			}
			if r.ContentLength > MaxUploadBytes {
				return nil, &apiError{http.StatusRequestEntityTooLarge, "EntityTooLarge", "a file uploaded from the console is at most 5 GiB; use the S3 endpoint for larger ones"}
			}
			ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			return a.PutObject(ctx, ref, ct, http.MaxBytesReader(nil, r.Body, MaxUploadBytes))
		})},
		{"POST /api/v1/remote/test", true, diag(func(ctx context.Context, _ *http.Request, d admin.Diagnostics) (any, error) {
			return d.TestRemote(ctx)
		})},
		{"POST /api/v1/remote/reconcile", true, func(ctx context.Context, _ *http.Request, _ *session) (any, error) {
			return s.ctrl.Reconcile(ctx, true)
		}},
		{"POST /api/v1/scrub", true, func(ctx context.Context, _ *http.Request, _ *session) (any, error) {
			return s.ctrl.Scrub(ctx, true)
		}},
		{"GET /api/v1/drop", false, diag(func(ctx context.Context, _ *http.Request, d admin.Diagnostics) (any, error) {
			return d.DropFolders(ctx)
		})},
		{"GET /api/v1/log", false, diag(func(ctx context.Context, r *http.Request, d admin.Diagnostics) (any, error) {
			q, err := admin.ParseLogQuery(r.URL.Query())
			if err != nil {
				return nil, err
			}
			return d.Log(ctx, q)
		})},
	}
}

// handleDownload streams an object to a signed-in browser as an attachment.
// It is never rendered on the console's origin: whatever the object's type,
// it goes out as application/octet-stream in a sandbox.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, err := s.authorize(r, false); err != nil {
		writeError(w, err.(*apiError))
		return
	}
	if s.archive == nil {
		writeError(w, errNoArchive)
		return
	}
	q := r.URL.Query()
	ref := admin.ObjectRef{Bucket: q.Get("bucket"), Key: q.Get("key")}
	e, body, err := s.archive.OpenObject(r.Context(), ref)
	if err != nil {
		writeError(w, s.refusal(err, "GET /api/v1/objects/download"))
		return
	}
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
	h.Set("ETag", `"`+e.ETag+`"`)
	name := path.Base(ref.Key)
	if name == "." || name == "/" {
		name = "download"
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if _, err := io.Copy(w, body); err != nil && r.Context().Err() == nil {
		s.log.Warn().Err(err).Str("bucket", ref.Bucket).Str("key", ref.Key).Msg("console download cut short")
	}
}

// refusal turns an error of an endpoint into what the browser is told.
func (s *Server) refusal(err error, request string) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, admin.ErrInvalid):
		ae = &apiError{http.StatusBadRequest, "InvalidRequest", strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": ")}
	case errors.Is(err, admin.ErrNotFound):
		ae = &apiError{http.StatusNotFound, "NotFound", strings.TrimPrefix(err.Error(), admin.ErrNotFound.Error()+": ")}
	case errors.Is(err, admin.ErrConflict):
		ae = &apiError{http.StatusConflict, "Conflict", strings.TrimPrefix(err.Error(), admin.ErrConflict.Error()+": ")}
	default:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{http.StatusRequestEntityTooLarge, "EntityTooLarge", "a file uploaded from the console is at most 5 GiB"}
		}
		s.log.Error().Err(err).Str("request", request).Msg("console request failed")
		ae = &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	return ae
}
