// Package archive owns IPAS's idea of an object: its index entry in the journal
// (queue) plus the blobs that hold its bytes (store). Everything that adds an
// object or reads one back goes through it: the S3 gateway, the drop-folder
// watcher, `gateway import` and the replication workers.
//
// An object is the concatenation of its pieces: one blob for a plain PUT or an
// ingested file, one blob per part for an object completed from a multipart
// upload (Pieces). A body is stored first (Put, PutVerified, or Stage for a
// small one), and comes back pinned, so that the store's collector keeps the
// blob until the journal entry that names it is committed (Commit); the caller
// unpins it once Commit has returned, whatever its outcome. A staged body is
// not durable yet: Stage returns the bytes that the journal entry carries
// (queue.Node.PutObjectInline), whose fsync makes the object durable.
//
// An object's bytes are local, or on the remote only: a restore with
// --metadata-only journals each object without its bytes (RemoteOnly), and the
// cache's eviction (package cache) does the same. Such an object names no blob, so the
// store's collector and `gateway verify` have nothing of it to keep or check;
// it is listed and HEADed like any other. Copying it is ErrRemoteOnly; reading
// it is too, unless the archive reads through (SetReadThrough, OpenRemote):
// then its bytes come from the remote copy in aligned blocks shared by
// concurrent readers, checked (a whole read against the SHA-256), and a whole
// read may store them again (CachePolicy), making the object local.
//
// Reads go through a PieceSource, which opens a byte range of one piece: a
// local blob (LocalSource), or the remote copy of a remote-only object, read
// in blocks.
//
// Blob names travel as lowercase hex SHA-256 in the index and as store.Digest
// in the store; ParseDigest and Piece.Digest convert between the two, ETag
// formats a single-part object's S3 ETag.
package archive
