package gateway

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// trickleConn is a net.Conn that reads its input a few bytes at a time, with
// a timeout now and then, as a slow client and net/http's background reads
// make a connection look.
type trickleConn struct {
	net.Conn
	in   []byte
	step int
	n    int
}

func (c *trickleConn) Read(p []byte) (int, error) {
	c.n++
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	if c.n%5 == 0 {
		return 0, timeoutError{}
	}
	n := copy(p[:min(len(p), c.step)], c.in)
	c.in = c.in[n:]
	return n, nil
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// readAll reads c to EOF, going on after timeouts as net/http does.
func readAll(t *testing.T, c net.Conn) []byte {
	var out bytes.Buffer
	buf := make([]byte, 7)
	for i := 0; i < 1_000_000; i++ {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		var te timeoutError
		switch {
		case err == io.EOF:
			return out.Bytes()
		case err == te:
		case err != nil:
			t.Fatal(err)
		}
	}
	t.Fatal("no EOF")
	return nil
}

// TestExpectConnRewritesHeadsOnly: request streams go through expectConn
// byte for byte, but for the Expect headers net/http would refuse, also when
// bodies (Content-Length, chunked with extensions and trailers) carry text
// that looks like such a header, whatever the sizes the bytes arrive in.
func TestExpectConnRewritesHeadsOnly(t *testing.T) {
	trap := "x\r\nExpect: 200\r\n\r\n"
	chunked := "PUT /b/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nexpect: nope\r\n\r\n" +
		"5;ext=1\r\nhello\r\n" + strconv.FormatInt(int64(len(trap)), 16) + "\r\n" + trap + "\r\n0\r\nX-Trailer: Expect: 200\r\n\r\n"
	for _, tc := range []struct{ name, in, out string }{
		{"unknown Expect", "PUT /b/k HTTP/1.1\r\nHost: h\r\nExpect: 200\r\nContent-Length: 3\r\n\r\nabc",
			"PUT /b/k HTTP/1.1\r\nHost: h\r\nIpas-Unknown-Expect: 200\r\nContent-Length: 3\r\n\r\nabc"},
		{"100-continue kept", "PUT /b/k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na", ""},
		{"empty kept", "PUT /b/k HTTP/1.1\r\nExpect:\r\nContent-Length: 1\r\n\r\na", ""},
		{"body untouched", "PUT /b/k HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(trap)) + "\r\n\r\n" + trap +
			"GET /b/k HTTP/1.1\nExpect: x\n\n",
			"PUT /b/k HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(trap)) + "\r\n\r\n" + trap +
				"GET /b/k HTTP/1.1\nIpas-Unknown-Expect: x\n\n"},
		{"chunked", chunked + "\r\nGET / HTTP/1.1\r\nExpect: 1\r\n\r\n",
			strings.Replace(chunked, "expect: nope", "Ipas-Unknown-Expect: nope", 1) + "\r\nGET / HTTP/1.1\r\nIpas-Unknown-Expect: 1\r\n\r\n"},
		{"bad length: pass-through", "PUT / HTTP/1.1\r\nContent-Length: x\r\n\r\nGET / HTTP/1.1\r\nExpect: 1\r\n\r\n", ""},
		{"bad chunk: pass-through", "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\nExpect: 1\r\n\r\n", ""},
		{"huge head: pass-through", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxRewriteHead) + "\r\nExpect: 1\r\n\r\n", ""},
	} {
		want := tc.out
		if want == "" {
			want = tc.in
		}
		for _, step := range []int{1, 3, 4096} {
			raw := &trickleConn{in: []byte(tc.in), step: step}
			got := readAll(t, &expectConn{Conn: raw, br: bufio.NewReader(raw)})
			if string(got) != want {
				t.Fatalf("%s, %d bytes at a time:\n got %.200q\nwant %.200q", tc.name, step, got, want)
			}
		}
	}
}

// memConn is a net.Conn that reads a fixed stream.
type memConn struct {
	net.Conn
	r io.Reader
}

func (c *memConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// BenchmarkExpectConnBody reads a request with a 64 MiB body, as net/http
// does (a 4 KiB bufio.Reader for the head, then the handler's 32 KiB reads),
// straight from the connection and through expectConn: the cost of looking
// for Expect headers on every upload.
func BenchmarkExpectConnBody(b *testing.B) {
	const size = 64 << 20
	body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	head := []byte("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n")
	for _, wrapped := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "expectConn"}[wrapped]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			buf := make([]byte, 32<<10)
			for b.Loop() {
				var c net.Conn = &memConn{r: io.MultiReader(bytes.NewReader(head), bytes.NewReader(body))}
				if wrapped {
					c = &expectConn{Conn: c, br: bufio.NewReader(c)}
				}
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{br}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
