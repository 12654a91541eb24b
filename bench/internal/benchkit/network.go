package benchkit

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ipas/ipas/cache"
)

// downRate is the -remote-rate flag: bytes per second, with a unit as
// store.capacity takes it (50MB: 50,000,000; 12.5MB is 100 Mbit/s).
type downRate struct{ s *Shape }

func (r downRate) String() string {
	if r.s == nil || r.s.DownRate == 0 {
		return ""
	}
	return fmt.Sprint(r.s.DownRate)
}

func (r downRate) Set(v string) error {
	c, err := cache.ParseCapacity(strings.TrimSuffix(strings.TrimSpace(v), "/s"))
	if err != nil || c.Share > 0 {
		return fmt.Errorf("%q is not a rate in bytes per second (e.g. 12.5MB for 100 Mbit/s, 50MB, 0 for none)", v)
	}
	r.s.DownRate = c.Bytes
	return nil
}

// RemoteFlags registers -remote-rate and -remote-latency, which put the
// remote behind a Proxy of that Shape for every client alike (a remote
// across a network rather than on loopback).
func RemoteFlags(fs *flag.FlagSet) *Shape {
	s := new(Shape)
	fs.Var(downRate{s}, "remote-rate", "cap what the remote sends to all clients together at this many `bytes` per second "+
		"(12.5MB is 100 Mbit/s, 50MB 400 Mbit/s; default: none)")
	fs.DurationVar(&s.Latency, "remote-latency", 0, "hold every answer of the remote back this long, a round trip (e.g. 20ms)")
	return s
}

// Shaped says whether s changes anything.
func (s Shape) Shaped() bool { return s.UpRate > 0 || s.DownRate > 0 || s.Latency > 0 }

// RemoteEndpoint is the endpoint clients reach a remote at upstream
// (HOST:PORT) by: itself when s is unshaped (and no Proxy), else a Proxy's
// (stop it when done).
func RemoteEndpoint(upstream string, s Shape) (string, *Proxy, error) {
	if !s.Shaped() {
		return "http://" + upstream, nil, nil
	}
	if s.Latency > 0 && s.Latency < time.Millisecond {
		return "", nil, fmt.Errorf("-remote-latency %v: toxiproxy counts whole milliseconds", s.Latency)
	}
	px, err := StartProxy(upstream, s)
	if err != nil {
		return "", nil, err
	}
	return px.Endpoint(), px, nil
}
