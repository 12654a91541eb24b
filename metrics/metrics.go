package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric of IPAS's own.
const Namespace = "ipas"

// maxRemoteCodes bounds the remote error codes kept as label values: a
// remote that makes codes up must not grow the registry without end.
const maxRemoteCodes = 64

// otherCode labels remote errors past maxRemoteCodes distinct codes.
const otherCode = "Other"

var (
	// requestBuckets span a HEAD on loopback to a multi-GiB PUT over Wi-Fi.
	requestBuckets = prometheus.ExponentialBuckets(0.005, 4, 9) // 5 ms .. 328 s
	// commitBuckets span an fsync on an SSD to one on a tired SD card.
	commitBuckets = prometheus.ExponentialBuckets(0.0005, 2, 14) // 0.5 ms .. 4 s
)

// Metrics is the daemon's registry and the instruments that events move.
// Create it with New; its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	s3Requests *prometheus.CounterVec
	s3Duration *prometheus.HistogramVec
	s3In       *prometheus.CounterVec
	s3Out      *prometheus.CounterVec

	journalCommit  prometheus.Histogram
	partRetries    prometheus.Counter
	attemptsFailed prometheus.Counter
	remoteErrors   *prometheus.CounterVec

	mu    sync.Mutex
	codes map[string]bool // remote error codes seen, up to maxRemoteCodes
}

// New returns Metrics whose registry holds the event instruments, the Go
// runtime's and the process's metrics, and, when state is not nil, the
// metrics read from state at each scrape.
func New(state func() State) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), codes: map[string]bool{}}
	m.s3Requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "s3",
		Name: "requests_total", Help: "S3 requests answered, by operation and HTTP status."}, []string{"operation", "status"})
	m.s3Duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "s3",
		Name: "request_duration_seconds", Help: "Time from an S3 request's arrival to the end of its answer, by operation.",
		Buckets: requestBuckets}, []string{"operation"})
	m.s3In = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "s3",
		Name: "received_bytes_total", Help: "Request body bytes read from S3 clients, by operation."}, []string{"operation"})
	m.s3Out = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "s3",
		Name: "sent_bytes_total", Help: "Response body bytes sent to S3 clients, by operation."}, []string{"operation"})
	m.journalCommit = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "journal",
		Name: "commit_duration_seconds", Help: "Time from proposing a journal entry to its result (append, fsync, apply); every acknowledged write waits for one.",
		Buckets: commitBuckets})
	m.partRetries = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "replication",
		Name: "part_retries_total", Help: "Parts sent to the remote again after a transient error."})
	m.attemptsFailed = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "replication",
		Name: "failed_attempts_total", Help: "Replication attempts of a job that failed and will be retried after a backoff."})
	m.remoteErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "remote",
		Name: "errors_total", Help: "Failed requests to the remote S3, by the remote's error code (NetworkError: no answer)."}, []string{"code"})
	m.reg.MustRegister(m.s3Requests, m.s3Duration, m.s3In, m.s3Out, m.journalCommit, m.partRetries, m.attemptsFailed, m.remoteErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if state != nil {
		m.reg.MustRegister(newStateCollector(state))
	}
	return m
}

// Registry returns the registry, for Handler and tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveCommit records one journal entry's commit latency
// (queue.Config.OnCommit).
func (m *Metrics) ObserveCommit(d time.Duration) { m.journalCommit.Observe(d.Seconds()) }

// PartRetried counts a part sent again (replication.Events.PartRetry).
func (m *Metrics) PartRetried() { m.partRetries.Inc() }

// AttemptFailed counts a failed replication attempt
// (replication.Events.AttemptFailed).
func (m *Metrics) AttemptFailed() { m.attemptsFailed.Inc() }

// RemoteError counts a failed remote request by its S3 error code
// (remote.WithErrorHook).
func (m *Metrics) RemoteError(code string) {
	m.mu.Lock()
	if !m.codes[code] {
		if len(m.codes) >= maxRemoteCodes {
			code = otherCode
		}
		m.codes[code] = true
	}
	m.mu.Unlock()
	m.remoteErrors.WithLabelValues(code).Inc()
}
