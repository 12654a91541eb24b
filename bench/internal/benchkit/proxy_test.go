package benchkit

import (
	"crypto/sha256"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestProxy_DownRateIsShared: four GETs at once through a proxy capped at
// 2 MB/s downstream together take at least their bytes over the cap, every
// byte arrives intact and is counted; a latency holds each answer back at
// least that long.
func TestProxy_DownRateIsShared(t *testing.T) {
	body := make([]byte, 600_000)
	io.ReadFull(RandReader(7), body)
	want := sha256.Sum256(body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	const downRate, latency, clients = 2_000_000, 50 * time.Millisecond, 4
	px, err := StartProxy(strings.TrimPrefix(srv.URL, "http://"), Shape{DownRate: downRate, Latency: latency})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Stop()

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(px.Endpoint())
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || sha256.Sum256(got) != want {
				errs <- "body differs from what the server sent"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	took := time.Since(start)
	// The bucket starts full: one burst (1/50 s of the rate) comes free.
	floor := time.Duration(float64(clients*len(body))/downRate*float64(time.Second)) - time.Second/capBurstFraction
	if took < floor {
		t.Errorf("%d GETs of %d bytes took %v; a shared cap of %d B/s needs at least %v", clients, len(body), took, downRate, floor)
	}

	// Every answer's body and headers, counted as they left the server.
	if got, bodies := px.Received(), int64(clients*len(body)); got < bodies || got > bodies+clients*1024 {
		t.Errorf("the proxy counted %d bytes from the server; want %d of bodies plus headers", got, bodies)
	}
	if n := px.Connections(); n != clients {
		t.Errorf("the proxy counted %d connections; want %d, one per concurrent GET", n, clients)
	}

	start = time.Now()
	resp, err := http.Get(px.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	_, err = io.ReadFull(resp.Body, one[:])
	resp.Body.Close()
	if first := time.Since(start); err != nil || first < latency {
		t.Errorf("first byte after %v (%v), want at least the latency %v", first, err, latency)
	}
}

// TestRemoteFlags: -remote-rate takes the units store.capacity takes and
// refuses a percentage; unshaped, the remote is reached directly.
func TestRemoteFlags(t *testing.T) {
	for _, tc := range []struct {
		arg     string
		want    int64
		wantErr bool
	}{
		{"12.5MB", 12_500_000, false},
		{"50MB/s", 50_000_000, false},
		{"1MiB", 1 << 20, false},
		{"0", 0, false},
		{"50%", 0, true},
		{"fast", 0, true},
	} {
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		s := RemoteFlags(fs)
		err := fs.Parse([]string{"-remote-rate", tc.arg, "-remote-latency", "20ms"})
		if (err != nil) != tc.wantErr || s.DownRate != tc.want || (err == nil && s.Latency != 20*time.Millisecond) {
			t.Errorf("-remote-rate %s: %+v, %v; want %d (error: %v)", tc.arg, *s, err, tc.want, tc.wantErr)
		}
	}
	ep, px, err := RemoteEndpoint("127.0.0.1:9", Shape{})
	defer px.Stop()
	if err != nil || ep != "http://127.0.0.1:9" || px != nil {
		t.Errorf("unshaped: %q, proxy %v, %v; want the upstream itself, no proxy", ep, px, err)
	}
	if _, _, err := RemoteEndpoint("127.0.0.1:9", Shape{Latency: time.Microsecond}); err == nil || !strings.Contains(err.Error(), "milliseconds") {
		t.Errorf("a latency under 1 ms: %v, want an error naming milliseconds", err)
	}
}
