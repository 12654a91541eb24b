package gateway

import (
	"io"
	"net/http"
	"time"
)

// maxErrorDrain bounds how much of a request body the gateway reads and drops
// after it failed the request part way through the body (a full disk, a bad
// checksum), so that the client, still sending, gets the error response
// instead of a connection reset. net/http drops only 256 KiB itself, then
// closes the connection under the sender.
const maxErrorDrain = 32 << 20

// trackedBody records whether a handler has started to read the body.
type trackedBody struct {
	io.ReadCloser
	read bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.read = true
	return b.ReadCloser.Read(p)
}

// drainBody reads what is left of a body a handler began to read, up to
// maxErrorDrain, giving the client stall to send each part. A body never read
// is left alone: a client that sent Expect: 100-continue has not sent it.
func (r *request) drainBody(w http.ResponseWriter, stall time.Duration) {
	if r.body == nil || !r.body.read {
		return
	}
	sr := &stallReader{r: r.body.ReadCloser, rc: http.NewResponseController(w), timeout: stall}
	io.CopyN(io.Discard, sr, maxErrorDrain) // what is left over, net/http cuts off
}
