package metrics

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// InstrumentS3 returns next counted: each request's operation (named by
// operation, e.g. gateway.Server.Operation) and status, its duration, and the
// body bytes read and written. The writer it hands on keeps io.ReaderFrom, so
// a GET still reaches sendfile(2), and Unwrap, so deadlines and Flush still
// reach the connection.
func (m *Metrics) InstrumentS3(next http.Handler, operation func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		op := operation(r)
		in := &countingBody{}
		if r.Body != nil && r.Body != http.NoBody {
			in.ReadCloser = r.Body
			r.Body = in
		}
		cw := &countingWriter{ResponseWriter: w}
		defer func() {
			// A panic that net/http turns into a dropped connection is still
			// a request: a 500 when no status went out.
			p := recover()
			status := cw.status
			if status == 0 && p != nil {
				status = http.StatusInternalServerError
			} else if status == 0 {
				status = http.StatusOK
			}
			m.observeS3(op, status, in.n.Load(), cw.n, start)
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(cw, r)
	})
}

func (m *Metrics) observeS3(op string, status int, in, out int64, start time.Time) {
	m.s3Requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.s3Duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if in > 0 {
		m.s3In.WithLabelValues(op).Add(float64(in))
	}
	if out > 0 {
		m.s3Out.WithLabelValues(op).Add(float64(out))
	}
}

// countingBody counts the request body bytes the handler reads. The count is
// atomic: a handler may leave a goroutine draining the body.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// countingWriter records the final status and counts the body bytes sent.
type countingWriter struct {
	http.ResponseWriter
	status int // the first final (non-1xx) status
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// ReadFrom hands src to net/http's own ReadFrom (sendfile(2) for a file).
func (w *countingWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
	}
	w.n += n
	return n, err
}

// Flush implements http.Flusher.
func (w *countingWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
