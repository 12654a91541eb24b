package s3err

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestWriteError(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"api error", http.MethodGet, ErrNoSuchKey, 404, "NoSuchKey", ErrNoSuchKey.Message},
		{"wrapped api error", http.MethodPut, fmt.Errorf("gateway: put: %w", ErrBadDigest), 400, "BadDigest", ErrBadDigest.Message},
		{"custom message", http.MethodPut, ErrInvalidArgument.WithMessage("chunk size too large"), 400, "InvalidArgument", "chunk size too large"},
		{"internal error hides details", http.MethodGet, &os.PathError{Op: "open", Path: "/var/lib/ipas/secret", Err: errors.New("boom")}, 500, "InternalError", ErrInternalError.Message},
		{"nil error pointer in chain", http.MethodGet, (*APIError)(nil), 500, "InternalError", ErrInternalError.Message},
		{"disk full", http.MethodPut, ErrInsufficientStorage, 507, "InsufficientStorage", ErrInsufficientStorage.Message},
		{"expired presign", http.MethodGet, ErrRequestExpired, 403, "AccessDenied", "Request has expired."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(tc.method, "/bucket/some/key", nil)
			WriteError(rec, r, tc.err)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/xml" {
				t.Fatalf("content-type %q", ct)
			}
			var body errorBody
			if err := xml.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("unmarshal %q: %v", rec.Body.String(), err)
			}
			if body.Code != tc.wantCode || body.Message != tc.wantMsg {
				t.Fatalf("got %q/%q, want %q/%q", body.Code, body.Message, tc.wantCode, tc.wantMsg)
			}
			if body.Resource != "/bucket/some/key" {
				t.Fatalf("resource %q", body.Resource)
			}
			if body.RequestID == "" || body.RequestID != rec.Header().Get(RequestIDHeader) {
				t.Fatalf("request id %q vs header %q", body.RequestID, rec.Header().Get(RequestIDHeader))
			}
			if strings.Contains(rec.Body.String(), "/var/lib") {
				t.Fatal("internal path leaked")
			}
		})
	}
}

func TestWriteErrorHead(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest(http.MethodHead, "/b/k", nil), ErrNoSuchKey)
	if rec.Code != 404 || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: status %d body %q", rec.Code, rec.Body.String())
	}
}

func TestWriteErrorKeepsRequestID(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set(RequestIDHeader, "ABC123")
	WriteError(rec, httptest.NewRequest(http.MethodGet, "/b", nil), ErrAccessDenied)
	if !strings.Contains(rec.Body.String(), "<RequestId>ABC123</RequestId>") {
		t.Fatalf("body %q", rec.Body.String())
	}
}

func TestIsMatchesCode(t *testing.T) {
	if !errors.Is(ErrInvalidArgument.WithMessage("x"), ErrInvalidArgument) {
		t.Fatal("WithMessage copy must match its table value")
	}
	if errors.Is(ErrInvalidArgument, ErrInvalidRequest) {
		t.Fatal("different codes must not match")
	}
	if ErrInvalidArgument.Message != "Invalid Argument." {
		t.Fatal("WithMessage modified the table value")
	}
}
