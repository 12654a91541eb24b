package awschunked

import (
	"hash"
	"strings"

	"github.com/ipas/ipas/gateway/checksum"
)

// checksumAlgorithm is one S3 checksum: its name in Checksums and its hash.
type checksumAlgorithm struct {
	name string
	new  func() hash.Hash
}

// checksumAlgorithms maps the trailer names ("x-amz-checksum-crc32") to their
// algorithms: every checksum S3 accepts.
var checksumAlgorithms = func() map[string]checksumAlgorithm {
	m := make(map[string]checksumAlgorithm, len(checksum.Algorithms))
	for _, a := range checksum.Algorithms {
		m[a.Header()] = checksumAlgorithm{strings.ToLower(string(a)), a.New}
	}
	return m
}()

// runningChecksum is a checksum computed over the decoded bytes for one trailer.
type runningChecksum struct {
	trailer string
	algo    checksumAlgorithm
	h       hash.Hash
}
