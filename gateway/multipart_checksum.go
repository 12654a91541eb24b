package gateway

import (
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// parseUploadChecksum reads the checksum settings of CreateMultipartUpload:
// x-amz-checksum-algorithm and x-amz-checksum-type, in any case. Without a type,
// CRC64NVME uploads are FULL_OBJECT and the others COMPOSITE, as in S3.
func parseUploadChecksum(h http.Header) (checksum.Algorithm, checksum.Type, error) {
	var t checksum.Type
	if v := h.Get(hdrChecksumType); v != "" {
		var ok bool
		if t, ok = checksum.ParseType(v); !ok {
			return "", "", errInvalidHeader("x-amz-checksum-type")
		}
	}
	v := h.Get(hdrChecksumAlgorithm)
	if v == "" {
		if t != "" {
			return "", "", errChecksumTypeWithoutAlgorithm
		}
		return "", "", nil
	}
	a, ok := checksum.Parse(v)
	if !ok {
		return "", "", errInvalidChecksumAlgorithm
	}
	if t == "" {
		t = a.DefaultType()
	}
	if !a.Supports(t) {
		return "", "", s3err.ErrInvalidRequest.WithMessage("The " + string(t) + " checksum type cannot be used with the " +
			strings.ToLower(string(a)) + " checksum algorithm.")
	}
	return a, t, nil
}

// uploadChecksum returns the checksum algorithm and type of u; an upload journaled
// before types were has its algorithm's default type.
func uploadChecksum(u queue.Upload) (checksum.Algorithm, checksum.Type) {
	a, ok := checksum.Parse(u.ChecksumAlgorithm)
	if !ok {
		return "", ""
	}
	t, ok := checksum.ParseType(u.ChecksumType)
	if !ok {
		t = a.DefaultType()
	}
	return a, t
}

// checkPartChecksum holds a part's body to its upload's checksum: the client's
// checksum must be of the upload's algorithm; without one, a FULL_OBJECT upload
// computes it and a COMPOSITE upload refuses the part, as S3 does. An upload
// without an algorithm takes any checksum, or none.
func checkPartChecksum(u queue.Upload, b *body) error {
	a, t := uploadChecksum(u)
	if a == "" {
		return nil
	}
	switch got := b.Algorithm(); {
	case got == "" && t == checksum.FullObject:
		b.ComputeIfNone(a)
	case got == "":
		return errChecksumAlgorithmMismatch(string(a), nullChecksum)
	case got != a:
		return errChecksumAlgorithmMismatch(string(a), string(got))
	}
	return nil
}

// partChecksum is the checksum an UploadPartCopy part gets in upload u, whose
// bytes are the whole of src when whole: the source's own value when it is a
// full-object checksum of the upload's algorithm, "" when it must be computed.
func partChecksum(u queue.Upload, src queue.Object, whole bool) (checksum.Algorithm, string) {
	a, _ := uploadChecksum(u)
	if a == "" {
		return "", ""
	}
	if v := src.Checksums[string(a)]; whole && v != "" && checksum.TypeOf(v) == checksum.FullObject {
		return a, v
	}
	return a, ""
}

// writeUploadChecksum sets the checksum settings of an upload on a response.
func writeUploadChecksum(h http.Header, u queue.Upload) {
	if a, t := uploadChecksum(u); a != "" {
		h.Set(hdrChecksumAlgorithm, string(a))
		h.Set(hdrChecksumType, string(t))
	}
}

// listPartsResult adds the checksums to gofakes3's ListParts result.
type listPartsResult struct {
	gofakes3.ListMultipartUploadPartsResult
	ChecksumAlgorithm string          `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string          `xml:"ChecksumType,omitempty"`
	Parts             []listPartsItem `xml:"Part"`
}

type listPartsItem struct {
	gofakes3.ListMultipartUploadPartItem
	checksumFields
}

// withChecksums returns out with u's checksum settings ("null" when it has none, as
// S3 reports them in ListParts) and each part's checksum.
func withChecksums(out gofakes3.ListMultipartUploadPartsResult, u queue.Upload) listPartsResult {
	res := listPartsResult{ListMultipartUploadPartsResult: out, ChecksumAlgorithm: nullChecksum, ChecksumType: nullChecksum}
	if a, t := uploadChecksum(u); a != "" {
		res.ChecksumAlgorithm, res.ChecksumType = string(a), string(t)
	}
	sums := make(map[int]map[string]string, len(u.Parts))
	for _, p := range u.Parts {
		sums[p.Number] = p.Checksums
	}
	for _, p := range out.Parts {
		res.Parts = append(res.Parts, listPartsItem{ListMultipartUploadPartItem: p, checksumFields: newChecksumFields(sums[p.PartNumber])})
	}
	return res
}

// listUploadsItem adds an upload's checksum settings to gofakes3's entry.
type listUploadsItem struct {
	gofakes3.ListMultipartUploadItem
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

func newListUploadsItem(item gofakes3.ListMultipartUploadItem, u queue.Upload) listUploadsItem {
	a, t := uploadChecksum(u)
	return listUploadsItem{ListMultipartUploadItem: item, ChecksumAlgorithm: string(a), ChecksumType: string(t)}
}
