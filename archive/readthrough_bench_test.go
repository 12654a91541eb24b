package archive

import (
	"context"
	"crypto/rand"
	"io"
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkReadThroughWhole reads a 64 MiB remote-only object whole through
// a remote in memory: the ceiling of the read-through path itself (blocks,
// read-ahead, the SHA-256 check), without a network.
func BenchmarkReadThroughWhole(b *testing.B) {
	a := openArchive(&testing.T{}, b.TempDir())
	defer a.close(&testing.T{})
	content := make([]byte, 64<<20)
	rand.Read(content)
	remote := &memRemote{objects: map[string][]byte{"b/big": content}, etag: "remote-etag"}
	a.SetReadThrough(NewReadThrough(remote, "memory", a.node, CacheNever, zerolog.Nop()))
	o := remoteOnlyObject(&testing.T{}, a, "big", content, nil)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		a.rt.Load().group.forget(versionName(o)) // nothing retained from the last read
		rc, err := a.OpenRemote(context.Background(), o, 0, o.Size)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
