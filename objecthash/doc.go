// Package objecthash is the hash an object version is checked against: the
// SHA-256 of its bytes for an object in one piece, or, for an object made
// of parts (a completed multipart upload), a composite hash, the SHA-256 of
// the parts' raw SHA-256 digests in order, written "hex-N" with N the part
// count. The parts are blobs already named by their SHA-256, so the
// composite costs nothing when an upload completes, where a full SHA-256
// would be one more pass over every byte. It binds the ordered list of
// parts, and each part binds its bytes: checking bytes against it needs the
// part sizes, to hash the bytes along the same boundaries (Verifier).
package objecthash
