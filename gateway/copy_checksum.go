package gateway

import (
	"maps"
	"net/http"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/queue"
)

// copyObjectResult adds the new object's checksum to gofakes3's CopyObject result.
type copyObjectResult struct {
	gofakes3.CopyObjectResult
	checksumFields
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// copyChecksumAlgorithm reads the x-amz-checksum-algorithm of a CopyObject: the
// checksum the copy gets instead of the source's; "" keeps the source's.
func copyChecksumAlgorithm(h http.Header) (checksum.Algorithm, error) {
	v := h.Get(hdrChecksumAlgorithm)
	if v == "" {
		return "", nil
	}
	a, ok := checksum.Parse(v)
	if !ok {
		return "", errInvalidChecksumAlgorithm
	}
	return a, nil
}

// copyChecksums returns the checksums of a copy of src: src's own without algo;
// with algo, a full-object checksum with it, taken from src when it has one and
// computed over its bytes otherwise.
func (s *Server) copyChecksums(r *request, src queue.Object, algo checksum.Algorithm) (map[string]string, error) {
	if algo == "" {
		return maps.Clone(src.Checksums), nil
	}
	if v := src.Checksums[string(algo)]; v != "" && checksum.TypeOf(v) == checksum.FullObject {
		return map[string]string{string(algo): v}, nil
	}
	v, err := s.hashObject(r, src, algo)
	if err != nil {
		return nil, err
	}
	return map[string]string{string(algo): v}, nil
}
