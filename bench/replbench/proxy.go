package main

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	// capBurstFraction: the shared cap lets 1/capBurstFraction of a second's
	// bytes through at once, like a real uplink's queue, not a whole second.
	capBurstFraction = 50
	// minCapBurst is at least one toxiproxy read (32 KiB) split in two.
	minCapBurst = 16 << 10
	// interruptFlush is how long a toxic may take to hand on its last chunk
	// when toxiproxy interrupts it.
	interruptFlush = 5 * time.Second
)

// toxiproxy's own bandwidth toxic limits each connection separately, so a
// client with 10 connections would get 10 times the cap. A home uplink is
// one pipe: the shareCap toxic makes every connection of a proxy draw from
// one token bucket. The count toxic records what clients sent.
const (
	toxicCount = "replbench_count"
	toxicShare = "replbench_share"
)

var (
	registerOnce sync.Once
	groupsMu     sync.Mutex
	groups       = map[string]*group{}
	proxySeq     atomic.Int64
)

// group is the state the toxics of one proxy share.
type group struct {
	sent      atomic.Int64 // bytes clients sent, before the cap delays them
	firstByte atomic.Int64 // unix nanoseconds of the first byte; 0 before it
	lim       *rate.Limiter
}

func lookupGroup(name string) *group {
	groupsMu.Lock()
	defer groupsMu.Unlock()
	return groups[name]
}

type countToxic struct {
	Group string `json:"group"`
}

func (c *countToxic) Pipe(stub *toxics.ToxicStub) {
	g := lookupGroup(c.Group)
	for {
		select {
		case <-stub.Interrupt:
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				stub.Close()
				return
			}
			g.firstByte.CompareAndSwap(0, time.Now().UnixNano())
			g.sent.Add(int64(len(chunk.Data)))
			stub.Output <- chunk
		}
	}
}

type shareToxic struct {
	Group string `json:"group"`
}

func (s *shareToxic) Pipe(stub *toxics.ToxicStub) {
	lim := lookupGroup(s.Group).lim
	for {
		select {
		case <-stub.Interrupt:
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				stub.Close()
				return
			}
			for data := chunk.Data; len(data) > 0; {
				n := min(len(data), lim.Burst())
				r := lim.ReserveN(time.Now(), n)
				select {
				case <-time.After(r.Delay()):
				case <-stub.Interrupt:
					r.Cancel()
					stub.WriteOutput(&stream.StreamChunk{Data: data, Timestamp: chunk.Timestamp}, interruptFlush)
					return
				}
				stub.Output <- &stream.StreamChunk{Data: data[:n], Timestamp: chunk.Timestamp}
				data = data[n:]
			}
		}
	}
}

// proxy is an in-process toxiproxy proxy to an S3 server with an upload
// cap shared by all its connections (0: none) and a byte counter.
type proxy struct {
	addr string
	p    *toxiproxy.Proxy
	g    *group
}

func startProxy(upstream string, capBytes int64) (*proxy, error) {
	registerOnce.Do(func() {
		toxics.Register(toxicCount, new(countToxic))
		toxics.Register(toxicShare, new(shareToxic))
	})
	name := fmt.Sprintf("replbench%d", proxySeq.Add(1))
	g := &group{lim: rate.NewLimiter(rate.Inf, minCapBurst)}
	if capBytes > 0 {
		g.lim = rate.NewLimiter(rate.Limit(capBytes), max(minCapBurst, int(capBytes/capBurstFraction)))
	}
	groupsMu.Lock()
	groups[name] = g
	groupsMu.Unlock()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	px := &proxy{addr: p.Listen, p: p, g: g}
	if err := px.addToxic("count", toxicCount, name); err != nil {
		p.Stop()
		return nil, err
	}
	if capBytes > 0 {
		if err := px.addToxic("cap", toxicShare, name); err != nil {
			p.Stop()
			return nil, err
		}
	}
	return px, nil
}

// addToxic appends an upstream toxic; toxics run in the order added, so the
// counter sees bytes before the cap holds them back.
func (px *proxy) addToxic(name, typ, grp string) error {
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": "upstream", "toxicity": 1.0,
		"attributes": map[string]any{"group": grp}})
	if _, err := px.p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		return fmt.Errorf("add toxic %s: %w", name, err)
	}
	return nil
}

func (px *proxy) endpoint() string { return "http://" + px.addr }

// sent is the bytes clients have sent through the proxy so far.
func (px *proxy) sent() int64 { return px.g.sent.Load() }

// firstByte is when the first byte arrived (zero time before).
func (px *proxy) firstByte() time.Time {
	ns := px.g.firstByte.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// cut closes every connection through the proxy and listens again on the
// same address.
func (px *proxy) cut() error {
	px.p.Stop()
	if err := px.p.Start(); err != nil {
		return fmt.Errorf("restart toxiproxy: %w", err)
	}
	return nil
}

func (px *proxy) stop() {
	px.p.Stop()
	groupsMu.Lock()
	delete(groups, px.p.Name)
	groupsMu.Unlock()
}
