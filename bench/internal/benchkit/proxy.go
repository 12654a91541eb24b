package benchkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

const (
	// capBurstFraction: a shared cap lets 1/capBurstFraction of a second's
	// bytes through at once, like a real link's queue, not a whole second.
	capBurstFraction = 50
	// minCapBurst is at least one toxiproxy read (32 KiB) split in two.
	minCapBurst = 16 << 10
	// interruptFlush is how long a toxic may take to hand on its last chunk
	// when toxiproxy interrupts it.
	interruptFlush = 5 * time.Second
)

// toxiproxy's own bandwidth toxic limits each connection separately, so a
// client with 10 connections would get 10 times the cap. A home link is one
// pipe: the share toxic makes every connection of a proxy draw from one
// token bucket per direction. The count toxic records what clients sent.
const (
	toxicCount = "benchkit_count"
	toxicShare = "benchkit_share"
)

var (
	registerOnce sync.Once
	groupsMu     sync.Mutex
	groups       = map[string]*proxyGroup{}
	proxySeq     atomic.Int64
)

// proxyGroup is the state the toxics of one proxy share.
type proxyGroup struct {
	sent      atomic.Int64 // bytes clients sent, before a cap delays them
	received  atomic.Int64 // bytes the server answered, before a cap delays them
	conns     atomic.Int64 // connections through the proxy
	firstByte atomic.Int64 // unix nanoseconds of the first byte; 0 before it
	up, down  *rate.Limiter
}

func lookupGroup(name string) *proxyGroup {
	groupsMu.Lock()
	defer groupsMu.Unlock()
	return groups[name]
}

// pipe hands each chunk of stub's input to pass until the input ends (then
// it closes the stub), toxiproxy interrupts it, or pass returns false.
func pipe(stub *toxics.ToxicStub, pass func(*stream.StreamChunk) bool) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				stub.Close()
				return
			}
			if !pass(chunk) {
				return
			}
		}
	}
}

type countToxic struct {
	Group string `json:"group"`
	Down  bool   `json:"down"` // count what the server answers, else what clients send
}

func (c *countToxic) Pipe(stub *toxics.ToxicStub) {
	g := lookupGroup(c.Group)
	if c.Down {
		g.conns.Add(1) // toxiproxy runs a toxic once per connection
	}
	pipe(stub, func(chunk *stream.StreamChunk) bool {
		if c.Down {
			g.received.Add(int64(len(chunk.Data)))
		} else {
			g.firstByte.CompareAndSwap(0, time.Now().UnixNano())
			g.sent.Add(int64(len(chunk.Data)))
		}
		stub.Output <- chunk
		return true
	})
}

type shareToxic struct {
	Group string `json:"group"`
	Down  bool   `json:"down"` // the downstream bucket (server to client), else upstream
}

func (s *shareToxic) Pipe(stub *toxics.ToxicStub) {
	g := lookupGroup(s.Group)
	lim := g.up
	if s.Down {
		lim = g.down
	}
	pipe(stub, func(chunk *stream.StreamChunk) bool {
		for data := chunk.Data; len(data) > 0; {
			n := min(len(data), lim.Burst())
			r := lim.ReserveN(time.Now(), n)
			select {
			case <-time.After(r.Delay()):
			case <-stub.Interrupt:
				r.Cancel()
				stub.WriteOutput(&stream.StreamChunk{Data: data, Timestamp: time.Now()}, interruptFlush)
				return false
			}
			// Stamped when the cap lets it go: a latency toxic after this
			// one delays it from then, as a link's propagation delay
			// follows its queue.
			stub.Output <- &stream.StreamChunk{Data: data[:n], Timestamp: time.Now()}
			data = data[n:]
		}
		return true
	})
}

// Shape is what a Proxy does to the bytes it passes on; zero values leave
// that part alone.
type Shape struct {
	// UpRate caps the bytes per second clients send, all connections
	// together (a home uplink).
	UpRate int64
	// DownRate caps the bytes per second the server answers, all
	// connections together (a home downlink).
	DownRate int64
	// Latency holds every answer back, so that each request costs one round
	// trip of Latency (connecting costs nothing: the proxy accepts locally).
	Latency time.Duration
}

func (s Shape) String() string {
	var parts []string
	if s.UpRate > 0 {
		parts = append(parts, "up "+linkRate(s.UpRate))
	}
	if s.DownRate > 0 {
		parts = append(parts, "down "+linkRate(s.DownRate))
	}
	if s.Latency > 0 {
		parts = append(parts, fmt.Sprintf("round trip %v", s.Latency))
	}
	if len(parts) == 0 {
		return "unshaped"
	}
	return strings.Join(parts, ", ")
}

// linkRate is bytes per second as a link's rate is spoken of.
func linkRate(bytesPerSec int64) string {
	return fmt.Sprintf("%g MB/s (%g Mbit/s)", float64(bytesPerSec)/1e6, float64(bytesPerSec)*8/1e6)
}

// Proxy is an in-process toxiproxy proxy on loopback in front of a server,
// shaped by a Shape, that counts the bytes clients send.
type Proxy struct {
	Addr string // 127.0.0.1:PORT
	p    *toxiproxy.Proxy
	g    *proxyGroup
}

// StartProxy puts a Proxy in front of upstream (HOST:PORT).
func StartProxy(upstream string, s Shape) (*Proxy, error) {
	registerOnce.Do(func() {
		toxics.Register(toxicCount, new(countToxic))
		toxics.Register(toxicShare, new(shareToxic))
	})
	name := fmt.Sprintf("benchkit%d", proxySeq.Add(1))
	g := &proxyGroup{up: newCap(s.UpRate), down: newCap(s.DownRate)}
	groupsMu.Lock()
	groups[name] = g
	groupsMu.Unlock()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	px := &Proxy{Addr: p.Listen, p: p, g: g}
	// Toxics run in the order added: the counters see bytes before the caps
	// hold them back, and the latency follows the downstream cap.
	toxic := []struct {
		on         bool
		name, typ  string
		downstream bool
		attrs      map[string]any
	}{
		{true, "count", toxicCount, false, map[string]any{"group": name}},
		{true, "countdown", toxicCount, true, map[string]any{"group": name, "down": true}},
		{s.UpRate > 0, "upcap", toxicShare, false, map[string]any{"group": name}},
		{s.DownRate > 0, "downcap", toxicShare, true, map[string]any{"group": name, "down": true}},
		{s.Latency > 0, "latency", "latency", true, map[string]any{"latency": s.Latency.Milliseconds()}},
	}
	for _, t := range toxic {
		if !t.on {
			continue
		}
		if err := px.addToxic(t.name, t.typ, t.downstream, t.attrs); err != nil {
			px.Stop()
			return nil, err
		}
	}
	return px, nil
}

// newCap is a token bucket of bytesPerSec (none for 0).
func newCap(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return rate.NewLimiter(rate.Inf, minCapBurst)
	}
	return rate.NewLimiter(rate.Limit(bytesPerSec), max(minCapBurst, int(bytesPerSec/capBurstFraction)))
}

func (px *Proxy) addToxic(name, typ string, downstream bool, attrs map[string]any) error {
	dir := "upstream"
	if downstream {
		dir = "downstream"
	}
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": dir, "toxicity": 1.0, "attributes": attrs})
	if _, err := px.p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		return fmt.Errorf("add toxic %s: %w", name, err)
	}
	return nil
}

// Endpoint is the proxy's URL.
func (px *Proxy) Endpoint() string { return "http://" + px.Addr }

// Sent is the bytes clients have sent through the proxy so far.
func (px *Proxy) Sent() int64 { return px.g.sent.Load() }

// Received is the bytes the server has answered through the proxy so far.
func (px *Proxy) Received() int64 { return px.g.received.Load() }

// Connections is how many connections clients have opened through the
// proxy so far (a server that closes each after one answer: its requests).
func (px *Proxy) Connections() int64 { return px.g.conns.Load() }

// FirstByte is when the first byte from a client arrived (zero time before).
func (px *Proxy) FirstByte() time.Time {
	ns := px.g.firstByte.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Cut closes every connection through the proxy and listens again on the
// same address.
func (px *Proxy) Cut() error {
	px.p.Stop()
	if err := px.p.Start(); err != nil {
		return fmt.Errorf("restart toxiproxy: %w", err)
	}
	return nil
}

// Stop closes the proxy and every connection through it (nil: nothing).
func (px *Proxy) Stop() {
	if px == nil {
		return
	}
	px.p.Stop()
	groupsMu.Lock()
	delete(groups, px.p.Name)
	groupsMu.Unlock()
}
