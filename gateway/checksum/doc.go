// Package checksum knows S3's additional checksums: the algorithms a client may name
// (x-amz-checksum-algorithm, x-amz-sdk-checksum-algorithm, x-amz-checksum-<name>), how
// their values are written (base64 of the digest, "-N" after a composite one), which
// checksum types each supports, and the two ways a multipart object's checksum is
// derived from its parts' checksums: COMPOSITE (a checksum of the part checksums) and
// FULL_OBJECT (the CRC of the whole object, obtained by combining the part CRCs
// without reading the parts again).
package checksum
