package testutil

import "testing"

// Cut stops the proxy: its connections are closed and new ones refused, as
// when the remote is unreachable.
func (p *Proxy) Cut() { p.p.Stop() }

// Heal starts a cut proxy again on the same address.
func (p *Proxy) Heal(t testing.TB) {
	t.Helper()
	p.p.Listen = p.Addr
	if err := p.p.Start(); err != nil {
		t.Fatalf("restart toxiproxy on %s: %v", p.Addr, err)
	}
}
