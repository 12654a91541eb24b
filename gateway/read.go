package gateway

import (
	"io"

	"github.com/ipas/ipas/queue"
)

// openObject opens bytes [off, off+length) of o, across its pieces, which are
// opened as the read reaches them: a missing blob cuts the body short rather
// than failing the request before its status line.
func (s *Server) openObject(r *request, o queue.Object, off, length int64) (io.ReadCloser, error) {
	return s.objects.Open(r.Context(), o, off, length), nil
}
