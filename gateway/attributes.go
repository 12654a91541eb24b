package gateway

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
)

// objectAttributeNames are the values x-amz-object-attributes may list.
var objectAttributeNames = map[string]bool{
	"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true,
}

type objectAttributes struct {
	XMLName      xml.Name           `xml:"GetObjectAttributesResponse"`
	Xmlns        string             `xml:"xmlns,attr"`
	ETag         string             `xml:"ETag,omitempty"`
	Checksum     *attributeChecksum `xml:"Checksum,omitempty"`
	ObjectParts  *attributeParts    `xml:"ObjectParts,omitempty"`
	StorageClass string             `xml:"StorageClass,omitempty"`
	ObjectSize   *int64             `xml:"ObjectSize,omitempty"`
}

type attributeChecksum struct {
	CRC32        string `xml:"ChecksumCRC32,omitempty"`
	CRC32C       string `xml:"ChecksumCRC32C,omitempty"`
	CRC64NVME    string `xml:"ChecksumCRC64NVME,omitempty"`
	SHA1         string `xml:"ChecksumSHA1,omitempty"`
	SHA256       string `xml:"ChecksumSHA256,omitempty"`
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type attributeParts struct {
	TotalPartsCount      int             `xml:"PartsCount"`
	PartNumberMarker     int             `xml:"PartNumberMarker"`
	NextPartNumberMarker int             `xml:"NextPartNumberMarker"`
	MaxParts             int             `xml:"MaxParts"`
	IsTruncated          bool            `xml:"IsTruncated"`
	Parts                []attributePart `xml:"Part"`
}

type attributePart struct {
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
}

// getObjectAttributes answers GET ?attributes: what a HEAD tells, as XML, plus the
// part sizes of an object assembled from a multipart upload.
func (s *Server) getObjectAttributes(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, v := range r.Header.Values("X-Amz-Object-Attributes") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			if !objectAttributeNames[name] {
				return s3err.ErrInvalidArgument.WithMessage("Invalid attribute name specified.")
			}
			want[name] = true
		}
	}
	if len(want) == 0 {
		return s3err.ErrInvalidRequest.WithMessage("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
	}
	maxParts, err := queryIntHeader(r, "X-Amz-Max-Parts", maxListParts)
	if err != nil {
		return err
	}
	marker, err := queryIntHeader(r, "X-Amz-Part-Number-Marker", 0)
	if err != nil {
		return err
	}
	o, err := s.readObject(w, r)
	if errors.Is(err, s3err.ErrMethodNotAllowed) {
		return s3err.ErrNoSuchKey // S3 answers attributes of a delete marker so
	}
	if err != nil {
		return err
	}
	w.Header().Set("Last-Modified", o.ModTime.UTC().Format(http.TimeFormat))
	out := objectAttributes{Xmlns: s3Namespace}
	if want["ETag"] {
		out.ETag = o.ETag
	}
	if want["StorageClass"] {
		out.StorageClass = s.objectStorageClass(o)
	}
	if want["ObjectSize"] {
		size := o.Size
		out.ObjectSize = &size
	}
	if want["Checksum"] && len(o.Checksums) > 0 {
		c := o.Checksums
		out.Checksum = &attributeChecksum{CRC32: c["CRC32"], CRC32C: c["CRC32C"], CRC64NVME: c["CRC64NVME"],
			SHA1: c["SHA1"], SHA256: c["SHA256"], ChecksumType: "FULL_OBJECT"}
	}
	if want["ObjectParts"] && len(o.Parts) > 0 {
		maxParts = min(maxParts, maxListParts)
		p := &attributeParts{TotalPartsCount: len(o.Parts), PartNumberMarker: marker, MaxParts: maxParts}
		for i, part := range o.Parts {
			n := i + 1
			if n <= marker {
				continue
			}
			if len(p.Parts) == maxParts {
				p.IsTruncated = true
				break
			}
			p.Parts = append(p.Parts, attributePart{PartNumber: n, Size: part.Size})
			p.NextPartNumberMarker = n
		}
		out.ObjectParts = p
	}
	return writeXML(w, http.StatusOK, out)
}

// queryIntHeader parses an optional non-negative 32-bit integer header.
func queryIntHeader(r *request, name string, def int) (int, error) {
	v := r.Header.Get(name)
	if v == "" {
		return def, nil
	}
	return parseListInt(v)
}

// parseListInt parses a max-keys style argument with S3's error messages.
func parseListInt(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, s3err.NotAnInteger(v)
	}
	if n < 0 {
		return 0, s3err.NegativeArgument(v)
	}
	return int(n), nil
}
