package gateway

import (
	"encoding/xml"
	"net/http"
	"time"
)

// keepAlive answers a long CompleteMultipartUpload as S3 does: once the work has
// taken an interval, the 200 status and the XML declaration go out, then a space
// every interval, so that no client or proxy times the connection out; the result
// or an Error document follows. A Complete done within the first interval (nearly
// all of them) is answered in one piece, with its real status.
//
// The status must not go out as soon as the request body is read: aws-sdk-go-v2
// (smithy-go's ClientHandler) closes the request body when the status line
// arrives, while net/http's transport, having sent the body, still reads it once
// more to check its length. Closed, the SDK's body answers that read's WriteTo
// with io.EOF, which io.Copy passes on as an error, and the transport closes the
// connection under the response: the client gets the 200 and then "use of closed
// network connection" instead of the result. Only a client descheduled between
// sending the body and that read (a loaded machine) is caught; after an interval
// it has long finished.
type keepAlive struct {
	w       *responseWriter
	started bool // the status line is out; read only after done
	stop    chan struct{}
	done    chan struct{}
}

// startKeepAlive starts the keep-alives of a response not yet begun on w.
func startKeepAlive(w *responseWriter, interval time.Duration) *keepAlive {
	k := &keepAlive{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go k.run(interval)
	return k
}

func (k *keepAlive) run(interval time.Duration) {
	defer close(k.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		}
		if !k.started {
			k.w.Header().Set("Content-Type", "application/xml")
			k.w.WriteHeader(http.StatusOK)
			_, _ = k.w.Write([]byte(xml.Header))
			k.started = true
		} else {
			_, _ = k.w.Write([]byte(" "))
		}
		k.w.Flush()
	}
}

// finish stops the keep-alives and reports whether the 200 status and the XML
// declaration are out; the rest of the document is then the caller's to write.
func (k *keepAlive) finish() (started bool) {
	close(k.stop)
	<-k.done
	return k.started
}
