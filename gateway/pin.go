package gateway

import (
	"errors"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// pinSource pins the blobs of a copy's source until the new version that names them
// is journaled (call the returned release then). Unpinned, a concurrent delete of
// the source could let the collector remove them after it marked the index and
// before the copy's reference existed. A blob already gone means the source was
// deleted meanwhile: NoSuchKey, as if the copy had come a moment later. A
// source whose bytes are on the remote only is InvalidObjectState.
func (s *Server) pinSource(src queue.Object) (release func(), err error) {
	release, err = s.objects.PinObject(src)
	if errors.Is(err, store.ErrNotFound) {
		return nil, s3err.ErrNoSuchKey
	}
	return release, remoteOnlyAsS3(err)
}
