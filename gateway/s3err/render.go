package s3err

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strconv"
)

// errorBody is the XML document S3 sends with every error response.
type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Elements  []element
	Resource  string `xml:"Resource"`
	RequestID string `xml:"RequestId"`
}

// element is an Element as XML: its name is the XMLName value.
type element struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

// RequestIDHeader is the response header S3 clients read the request id from.
const RequestIDHeader = "X-Amz-Request-Id"

// WriteError sends err as an S3 error response. An *APIError anywhere in err's chain is
// sent as is, with the elements of a DetailedError; anything else becomes InternalError
// with the generic message, because its text may name files or internal state. A HEAD
// response carries the status only: HEAD has no body, and S3 clients read the code from
// the status there.
//
// The request id is taken from the X-Amz-Request-Id response header if the caller set
// one (so logs and responses agree), otherwise a random one is generated and set.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	apiErr, _ := resolve(err)
	reqID := w.Header().Get(RequestIDHeader)
	if reqID == "" {
		reqID = newRequestID()
		w.Header().Set(RequestIDHeader, reqID)
	}
	if r.Method == http.MethodHead || apiErr.Status == http.StatusNotModified {
		w.WriteHeader(apiErr.Status)
		return
	}
	out := ErrorBody(r, reqID, err)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(apiErr.Status)
	_, _ = w.Write(out) // the client went away; nothing left to tell it
}

// ErrorBody returns the XML error document for err, for the one case where S3 sends an
// error inside a 200 response (CompleteMultipartUpload, once the status line is out).
// Like WriteError, anything but an *APIError becomes InternalError.
func ErrorBody(r *http.Request, reqID string, err error) []byte {
	apiErr, elements := resolve(err)
	doc := errorBody{
		Code:      apiErr.Code,
		Message:   apiErr.Message,
		Resource:  r.URL.Path,
		RequestID: reqID,
	}
	for _, e := range elements {
		doc.Elements = append(doc.Elements, element{XMLName: xml.Name{Local: e.Name}, Value: e.Value})
	}
	// Marshalling these string fields cannot fail.
	body, _ := xml.Marshal(doc)
	return append([]byte(xml.Header), body...)
}

// NewRequestID returns a request id: 16 random hex digits, the length S3 uses.
func NewRequestID() string { return newRequestID() }

// newRequestID returns 16 random hex digits, the length S3 uses.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error since Go 1.24
	return hex.EncodeToString(b[:])
}
