package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// startLatencyProxy puts a toxiproxy proxy on loopback in front of upstream
// (HOST:PORT) that holds every answer back by rtt, as a remote rtt away
// would: a client with n requests in flight then sends at most n per rtt.
func startLatencyProxy(upstream string, rtt time.Duration) (endpoint string, stop func(), err error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "smallreplbench", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return "", nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	body, _ := json.Marshal(map[string]any{"name": "rtt", "type": "latency", "stream": "downstream", "toxicity": 1.0,
		"attributes": map[string]any{"latency": rtt.Milliseconds()}})
	if _, err := p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		p.Stop()
		return "", nil, fmt.Errorf("add latency toxic: %w", err)
	}
	return "http://" + p.Listen, p.Stop, nil
}
