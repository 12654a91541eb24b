package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// hdrMpObjectSize is the object size a CompleteMultipartUpload may assert.
const hdrMpObjectSize = "X-Amz-Mp-Object-Size"

// completeHeaders are the checksum and size claims of a CompleteMultipartUpload.
type completeHeaders struct {
	typ        checksum.Type      // x-amz-checksum-type; "" when absent
	final      checksum.Algorithm // the algorithm of the x-amz-checksum-* header; ""
	finalValue string             // its value, "digest" or "digest-N"
	size       int64              // x-amz-mp-object-size; -1 when absent
}

// parseCompleteHeaders reads and checks the headers of a CompleteMultipartUpload,
// before anything else is looked at.
func parseCompleteHeaders(h http.Header) (completeHeaders, error) {
	c := completeHeaders{size: -1}
	if v, ok := h[hdrChecksumType]; ok {
		t, valid := checksum.ParseType(strings.Join(v, ","))
		if !valid {
			return c, errInvalidHeader("x-amz-checksum-type")
		}
		c.typ = t
	}
	values, err := checksumValues(h)
	if err != nil {
		return c, err
	}
	if len(values) > 1 {
		return c, errMultipleChecksums
	}
	for a, v := range values {
		digest, parts, ok := checksum.SplitComposite(v)
		if a == checksum.CRC64NVME && parts > 0 {
			ok = false
		}
		if _, valid := a.Decode(digest); !ok || !valid {
			return c, errInvalidHeader(a.Header())
		}
		c.final, c.finalValue = a, v
	}
	if v, ok := h[hdrMpObjectSize]; ok {
		raw := strings.Join(v, ",")
		n, err := strconv.ParseInt(raw, 10, 64)
		switch {
		case err != nil:
			return c, s3err.ErrInvalidRequest.WithMessage("Value for x-amz-mp-object-size header is invalid: '" + raw + "'")
		case n < 0:
			return c, s3err.ErrInvalidRequest.WithMessage("Value for x-amz-mp-object-size header is less than zero: '" + raw + "'")
		}
		c.size = n
	}
	return c, nil
}

// completedPartChecksums are the checksums a client lists with each part of a
// CompleteMultipartUpload.
type completedPartChecksums struct {
	Parts []struct {
		PartNumber int `xml:"PartNumber"`
		checksumFields
	} `xml:"Part"`
}

// objectChecksum is the checksum a completed upload gets.
type objectChecksum struct {
	algo  checksum.Algorithm
	value string // "" while it must still be computed over the bytes (stream)
}

// completeChecksum checks the client's checksum claims against upload u and its
// chosen parts (in list order), and derives the object's checksum from the parts':
// COMPOSITE from their digests, FULL_OBJECT by combining their CRCs. An upload
// created without an algorithm gets a CRC64NVME of its bytes, as in S3; that one is
// left to compute while the parts are read (value "").
func completeChecksum(u queue.Upload, hdr completeHeaders, claims completedPartChecksums, parts []queue.UploadPart, size int64) (objectChecksum, error) {
	a, t := uploadChecksum(u)
	if hdr.typ != "" && hdr.typ != t {
		mode := string(t)
		if mode == "" {
			mode = nullChecksum
		}
		return objectChecksum{}, s3err.ErrInvalidRequest.WithMessage("The upload was created using the " + mode +
			" checksum mode. The complete request must use the same checksum mode.")
	}
	for i, p := range parts {
		var claim checksumFields
		if i < len(claims.Parts) {
			claim = claims.Parts[i].checksumFields
		}
		if err := checkPartClaim(a, p, claim); err != nil {
			return objectChecksum{}, err
		}
	}
	if hdr.size >= 0 && hdr.size != size {
		return objectChecksum{}, s3err.ErrInvalidRequest.WithMessage("The provided 'x-amz-mp-object-size' header value " +
			strconv.FormatInt(size, 10) + " does not match what was computed: " + strconv.FormatInt(hdr.size, 10))
	}
	if a == "" {
		return objectChecksum{algo: checksum.Default}, nil
	}
	value, err := combineParts(a, t, parts)
	if err != nil {
		return objectChecksum{}, err
	}
	if hdr.final == a {
		claimed := hdr.finalValue
		if t == checksum.Composite && !strings.Contains(claimed, "-") {
			claimed += "-" + strconv.Itoa(len(parts))
		}
		if claimed != value {
			return objectChecksum{}, errChecksumMismatch(a)
		}
	}
	return objectChecksum{algo: a, value: value}, nil
}

// errPartChecksums is a part listed with several checksums or a malformed one.
var errPartChecksums = s3err.ErrInvalidArgument.WithMessage("Invalid Base64 or multiple checksums present in request")

// checkPartClaim checks the checksum a client lists for part p of an upload with
// algorithm a: the upload's algorithm must be there and match the part's; another
// one must match too. An upload without an algorithm needs none.
func checkPartClaim(a checksum.Algorithm, p queue.UploadPart, claim checksumFields) error {
	algs, vals := claim.values()
	if len(algs) > 1 {
		return errPartChecksums
	}
	if len(algs) == 0 {
		if a == "" {
			return nil
		}
		return s3err.ErrInvalidRequest.WithMessage("The upload was created using a " + strings.ToLower(string(a)) +
			" checksum. The complete request must include the checksum for each part. It was missing for part " +
			strconv.Itoa(p.Number) + " in the request.")
	}
	got, v := algs[0], vals[0]
	if _, ok := got.Decode(v); !ok {
		return errPartChecksums
	}
	if p.Checksums[string(got)] == v {
		return nil
	}
	if got == a || a == "" {
		return s3err.ErrInvalidPart
	}
	return s3err.ErrBadDigest.WithMessage("The " + strings.ToLower(string(got)) + " you specified for part " +
		strconv.Itoa(p.Number) + " did not match what we received.")
}

// combineParts derives the object checksum of type t from the parts' checksums.
func combineParts(a checksum.Algorithm, t checksum.Type, parts []queue.UploadPart) (string, error) {
	var add func(digest []byte, size int64)
	var value func() string
	if t == checksum.Composite {
		c := checksum.NewCompositeSum(a)
		add, value = func(d []byte, _ int64) { c.Add(d) }, c.Value
	} else {
		f, err := checksum.NewFullObjectSum(a)
		if err != nil {
			return "", err
		}
		add, value = f.Add, f.Value
	}
	for _, p := range parts {
		d, ok := a.Decode(p.Checksums[string(a)])
		if !ok {
			// A part journaled without the upload's checksum: nothing to derive from.
			return "", s3err.ErrInvalidPart
		}
		add(d, p.Size)
	}
	return value(), nil
}
