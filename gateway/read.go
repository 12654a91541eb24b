package gateway

import (
	"io"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
)

// openObject opens bytes [off, off+length) of o, across its pieces, which are
// opened as the read reaches them: a missing blob cuts the body short rather
// than failing the request before its status line. The bytes of a
// remote-only object are read through from the remote, whose errors on the
// first block do fail the request (readThroughError).
func (s *Server) openObject(r *request, o queue.Object, off, length int64) (io.ReadCloser, error) {
	if !archive.Local(o) {
		rc, err := s.objects.OpenRemote(r.Context(), o, off, length)
		if err != nil {
			return nil, readThroughError(err)
		}
		return rc, nil
	}
	return s.objects.Open(r.Context(), o, off, length), nil
}
