package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// S3 ignores an Expect header other than 100-continue (ceph's s3-tests:
// "garbage, but S3 succeeds!"), where net/http answers 417 Expectation
// Failed before any handler runs. expectConn therefore renames such a header
// in each request head on its way into net/http, to unknownExpectHeader, and
// ServeHTTP puts it back, so that a signature that covers it still checks.
//
// Only heads are rewritten: expectConn follows each request's framing
// (Content-Length, or chunked with its trailers) and passes bodies through
// untouched. A head it cannot follow (too long, a bad length, a bad chunk
// line) turns it into a plain pass-through for the rest of the connection,
// which net/http then refuses as before.
const unknownExpectHeader = "Ipas-Unknown-Expect"

// Limits of what expectConn reads before handing bytes on: beyond them
// net/http refuses the request anyway (MaxHeaderBytes, chunk lines of 4 KiB).
const (
	maxRewriteHead = 1 << 20
	maxChunkLine   = 4 << 10
)

// expectListener wraps the connections of its Listener in expectConn.
type expectListener struct{ net.Listener }

func (l expectListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &expectConn{Conn: c, br: bufio.NewReader(c)}, nil
}

// expectState is where in the request stream an expectConn is.
type expectState int

const (
	inHead      expectState = iota
	inBody                  // remaining bytes of a Content-Length body, or of a chunk and its CRLF
	inChunkLine             // the next chunk's size line
	inTrailer               // the trailer of a chunked body, up to its empty line
	passThrough             // no more rewriting on this connection
)

// expectConn is a net.Conn whose request heads lose an Expect that net/http
// would refuse.
type expectConn struct {
	net.Conn
	br        *bufio.Reader
	state     expectState
	chunked   bool   // the body being read is chunked
	remaining int64  // inBody: bytes left
	line      []byte // the head or line being gathered, kept across read errors
	pending   []byte // bytes ready for the reader
}

func (c *expectConn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		switch c.state {
		case passThrough:
			return c.br.Read(p)
		case inBody:
			if c.remaining == 0 {
				c.state = c.afterBody()
				continue
			}
			n, err := c.br.Read(p[:min(int64(len(p)), c.remaining)])
			c.remaining -= int64(n)
			return n, err
		}
		line, err := c.br.ReadSlice('\n')
		c.line = append(c.line, line...)
		if len(c.line) > maxRewriteHead || (c.state != inHead && len(c.line) > maxChunkLine) {
			c.giveUp()
			continue
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			refuseHTTPOverTLS(err)
			return 0, err // what was read stays in c.line for the next Read
		}
		c.lineDone()
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// lineDone acts on a complete line (or, in a head, the lines so far).
func (c *expectConn) lineDone() {
	last := lastLine(c.line)
	switch c.state {
	case inHead:
		if len(bytes.TrimRight(c.line, "\r\n")) == 0 {
			// Blank lines before a request, which net/http skips after a POST.
			c.pending, c.line = c.line, nil
			return
		}
		if len(bytes.TrimRight(last, "\r\n")) > 0 {
			return // the head goes on
		}
		c.head()
	case inChunkLine:
		c.pending, c.line = c.line, nil
		size, ok := chunkSize(c.pending)
		switch {
		case !ok:
			c.state = passThrough
		case size == 0:
			c.state = inTrailer
		default:
			c.state, c.remaining = inBody, size+2 // and its CRLF
		}
	case inTrailer:
		c.pending, c.line = c.line, nil
		if len(bytes.TrimRight(c.pending, "\r\n")) == 0 {
			c.state = inHead
		}
	}
}

// head rewrites the head gathered in c.line and finds its body's framing.
func (c *expectConn) head() {
	lines := bytes.SplitAfter(c.line, []byte("\n"))
	var length int64
	chunked, ok := false, true
	for i, l := range lines {
		if i == 0 {
			continue // the request line
		}
		name, value, found := bytes.Cut(l, []byte(":"))
		if !found {
			continue
		}
		v := strings.TrimSpace(string(value))
		switch http.CanonicalHeaderKey(string(name)) {
		case "Expect":
			if v != "" && !hasToken(v, "100-continue") {
				lines[i] = append([]byte(unknownExpectHeader+":"), value...)
			}
		case "Content-Length":
			n, err := strconv.ParseInt(v, 10, 64)
			ok = ok && err == nil && n >= 0 && (length == 0 || length == n)
			length = n
		case "Transfer-Encoding":
			chunked = chunked || hasToken(v, "chunked")
		}
	}
	c.pending, c.line = bytes.Join(lines, nil), nil
	switch {
	case !ok:
		c.state = passThrough
	case chunked:
		c.chunked, c.state = true, inChunkLine
	default:
		c.chunked, c.state, c.remaining = false, inBody, length
	}
}

// afterBody is the state after a Content-Length body or a chunk's data.
func (c *expectConn) afterBody() expectState {
	if c.chunked {
		return inChunkLine
	}
	return inHead
}

// giveUp hands on what was gathered and stops rewriting.
func (c *expectConn) giveUp() {
	c.pending, c.line, c.state = c.line, nil, passThrough
}

// refuseHTTPOverTLS answers a plain HTTP request sent to the TLS port as
// net/http does for a *tls.Conn it serves itself, which the wrapping hides.
func refuseHTTPOverTLS(err error) {
	var re tls.RecordHeaderError
	if !errors.As(err, &re) || re.Conn == nil {
		return
	}
	switch string(re.RecordHeader[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		re.Conn.Close()
	}
}

// ReadFrom keeps net/http's sendfile(2) path: the response side is the
// wrapped connection's.
func (c *expectConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// CloseWrite lets net/http half-close a TCP connection, as without the wrapper.
func (c *expectConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// lastLine returns the last line of b, with its line end.
func lastLine(b []byte) []byte {
	i := bytes.LastIndexByte(bytes.TrimSuffix(b, []byte("\n")), '\n')
	return b[i+1:]
}

// chunkSize reads the size of a chunk line ("1a2;ext=v\r\n").
func chunkSize(line []byte) (int64, bool) {
	s, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
	n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 16, 64)
	return n, err == nil && n >= 0 && n < 1<<40
}

// hasToken reports whether the comma-separated list v names token.
func hasToken(v, token string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// tlsConnKey keys the *tls.Conn of a request's connection in its context:
// net/http fills Request.TLS only for a connection that is a *tls.Conn
// itself.
type tlsConnKey struct{}

// expectConnContext remembers a wrapped connection's *tls.Conn.
func expectConnContext(ctx context.Context, c net.Conn) context.Context {
	if ec, ok := c.(*expectConn); ok {
		if tc, ok := ec.Conn.(*tls.Conn); ok {
			return context.WithValue(ctx, tlsConnKey{}, tc)
		}
	}
	return ctx
}

// restoreRequest gives r back what expectConn and its wrapping hid from
// net/http: the Expect header and the TLS state.
func restoreRequest(r *http.Request) {
	if v, ok := r.Header[unknownExpectHeader]; ok {
		// A client that sends this header itself gets what the Expect it
		// names would get.
		r.Header["Expect"] = append(r.Header["Expect"], v...)
		delete(r.Header, unknownExpectHeader)
	}
	if r.TLS == nil {
		if tc, ok := r.Context().Value(tlsConnKey{}).(*tls.Conn); ok {
			st := tc.ConnectionState()
			r.TLS = &st
		}
	}
}
