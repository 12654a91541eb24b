package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Proxy is a toxiproxy proxy, run in-process, between a client and an
// upstream address. Every proxy counts the bytes it forwards upstream
// (client to server) and downstream (server to client), as an independent
// measure of what a client sent and received.
type Proxy struct {
	Addr    string // where clients connect
	p       *toxiproxy.Proxy
	counter *atomic.Int64
	down    *atomic.Int64
}

var (
	registerOnce sync.Once
	countersMu   sync.Mutex
	counters     = map[string]*atomic.Int64{}
	proxySeq     atomic.Int64
)

// countToxic forwards data unchanged and adds its size to a named counter.
type countToxic struct {
	Counter string `json:"counter"`
}

func (c *countToxic) Pipe(stub *toxics.ToxicStub) {
	countersMu.Lock()
	n := counters[c.Counter]
	countersMu.Unlock()
	for {
		select {
		case <-stub.Interrupt:
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				stub.Close()
				return
			}
			if n != nil {
				n.Add(int64(len(chunk.Data)))
			}
			stub.Output <- chunk
		}
	}
}

// StartProxy starts a proxy to upstream ("host:port") on a free loopback
// port and stops it when the test ends.
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	registerOnce.Do(func() { toxics.Register("ipas_count", new(countToxic)) })
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	name := fmt.Sprintf("ipas%d", proxySeq.Add(1))
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("start toxiproxy: %v", err)
	}
	t.Cleanup(p.Stop)
	px := &Proxy{Addr: p.Listen, p: p, counter: &atomic.Int64{}, down: &atomic.Int64{}}
	countersMu.Lock()
	counters[name] = px.counter
	counters[name+"-down"] = px.down
	countersMu.Unlock()
	px.AddToxic(t, "count", "ipas_count", "upstream", map[string]any{"counter": name})
	px.AddToxic(t, "count-down", "ipas_count", "downstream", map[string]any{"counter": name + "-down"})
	return px
}

// Endpoint is the proxy's http:// URL.
func (p *Proxy) Endpoint() string { return "http://" + p.Addr }

// UpstreamBytes is the number of bytes forwarded from clients so far
// (before toxics further down the chain drop or delay them).
func (p *Proxy) UpstreamBytes() int64 { return p.counter.Load() }

// DownstreamBytes is the number of bytes forwarded to clients so far (as
// they left the server: toxics added later act after the count).
func (p *Proxy) DownstreamBytes() int64 { return p.down.Load() }

// AddToxic adds a toxic: typ is a toxiproxy toxic type (bandwidth,
// reset_peer, timeout, latency, limit_data, slicer...), stream is
// "upstream" or "downstream".
func (p *Proxy) AddToxic(t testing.TB, name, typ, stream string, attrs map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
	if _, err := p.p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		t.Fatalf("add toxic %s: %v", name, err)
	}
}

// RemoveToxic removes a toxic added by AddToxic.
func (p *Proxy) RemoveToxic(t testing.TB, name string) {
	t.Helper()
	if err := p.p.Toxics.RemoveToxic(t.Context(), name); err != nil {
		t.Fatalf("remove toxic %s: %v", name, err)
	}
}
