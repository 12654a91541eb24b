package gateway

import (
	"strconv"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// readPartNumber parses the partNumber of a GET or HEAD: 0 when absent, else 1 to
// MaxParts. A part is a range of its own, so a Range header alongside is refused.
func (s *Server) readPartNumber(r *request) (int, error) {
	if !r.URL.Query().Has("partNumber") {
		return 0, nil
	}
	n, err := s.partNumber(r)
	if err != nil {
		return 0, err
	}
	if r.Header.Get("Range") != "" {
		return 0, s3err.ErrInvalidRequest.WithMessage("Cannot specify both Range header and partNumber query parameter")
	}
	return n, nil
}

// partRange returns the bytes of part n of o. An object stored in one piece is its
// own part 1; a 0-byte one is served whole, with a 200 like S3.
func partRange(o queue.Object, n int) (off, length int64, ranged bool, err error) {
	if len(o.Parts) == 0 {
		if n != 1 {
			return 0, 0, false, s3err.ErrInvalidPartNumber
		}
		return 0, o.Size, o.Size > 0, nil
	}
	if n > len(o.Parts) {
		return 0, 0, false, s3err.ErrInvalidPartNumber
	}
	for _, p := range o.Parts[:n-1] {
		off += p.Size
	}
	size := o.Parts[n-1].Size
	return off, size, size > 0, nil
}

// partNumberMessage is S3's InvalidArgument message for a part number out of range.
func partNumberMessage(max int) string {
	return "Part number must be an integer between 1 and " + strconv.Itoa(max) + ", inclusive."
}
