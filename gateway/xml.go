package gateway

import (
	"encoding/xml"
	"net/http"
	"strconv"
)

// s3Namespace is the XML namespace of S3 responses.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// writeXML sends v as an XML document with status.
func writeXML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	out := append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out) // a client that went away has nothing left to learn
	return nil
}

// decodeXML parses an XML request body into v; anything that does not parse is
// MalformedXML.
func decodeXML(b []byte, v any) error {
	if err := xml.Unmarshal(b, v); err != nil {
		return errMalformedXML
	}
	return nil
}
