package s3err

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriteErrorElements(t *testing.T) {
	err := fmt.Errorf("sigv4: verify: %w", ErrAuthorizationHeaderMalformed.
		WithMessage("The authorization header is malformed; the region \"eu-west-1\" is wrong; expecting \"us-east-1\"").
		WithElements(Element{ElementRegion, "us-east-1"}, Element{ElementXAmzExpires, "<3600&>"}))
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest(http.MethodGet, "/b/k", nil), err)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d", rec.Code)
	}
	var body struct {
		Code, Message, Region, Resource, RequestID string
		Expires                                    string `xml:"X-Amz-Expires"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("unmarshal %q: %v", rec.Body.String(), err)
	}
	if body.Code != "AuthorizationHeaderMalformed" || body.Region != "us-east-1" || body.Expires != "<3600&>" ||
		body.Resource != "/b/k" || !strings.Contains(body.Message, "is wrong") {
		t.Fatalf("body %q", rec.Body.String())
	}
	// S3 writes the extra elements after Message.
	s := rec.Body.String()
	if !(strings.Index(s, "</Message>") < strings.Index(s, "<Region>") &&
		strings.Index(s, "<Region>") < strings.Index(s, "<X-Amz-Expires>")) {
		t.Fatalf("element order: %s", s)
	}
}

func TestDetailedErrorMatchesItsAPIError(t *testing.T) {
	d := ErrInvalidAccessKeyID.WithElements(Element{ElementAWSAccessKeyID, "AKID"})
	if !errors.Is(d, ErrInvalidAccessKeyID) || errors.Is(d, ErrAccessDenied) {
		t.Fatal("errors.Is must compare the code")
	}
	var e *APIError
	if !errors.As(fmt.Errorf("wrapped: %w", d), &e) || e.Status != 403 {
		t.Fatalf("errors.As: %v", e)
	}
	if d.Code != "InvalidAccessKeyId" {
		t.Fatalf("code %q", d.Code)
	}
}

func TestWriteErrorNilDetail(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest(http.MethodGet, "/b", nil), &DetailedError{Elements: []Element{{ElementRegion, "x"}}})
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "Region") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}
