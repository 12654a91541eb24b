package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

// The remote: one versitygw bucket, the main scenarios under mainPrefix and
// the -many objects under manyPrefix, each in a local bucket of its own.
const (
	remoteBucket   = "offsite"
	mainPrefix     = "pi1"
	manyPrefix     = "pi2"
	largeBucket    = "large"
	smallBucket    = "small"
	manyBucket     = "many"
	benchAccessKey = "restorebench"
	benchSecretKey = "restorebench-secret-key-0123456789"
	// ipasAccessKey and ipasSecretKey are the source daemon's S3 credential.
	ipasAccessKey = "IPASBENCH"
	ipasSecretKey = "ipas-bench-secret-0123456789"
	benchRegion   = "us-east-1"
)

// scenario is one set of objects on the remote, and each client's restores of it.
type scenario struct {
	name           string
	bucket, prefix string
	objects, bytes int64
	results        map[string][]measure
}

func (s *scenario) add(client string, m measure) {
	if s.results == nil {
		s.results = map[string][]measure{}
	}
	s.results[client] = append(s.results[client], m)
}

// measure is one restore.
type measure struct {
	elapsed time.Duration // start to exit
	synced  time.Duration // elapsed plus a syncfs of the destination
	cpu     time.Duration // user + system
	rssKiB  int64         // peak RSS (rusage)
	objects int64
	bytes   int64
	load    string
	fetched int64 // bytes from the remote through the proxy (-remote-rate, -remote-latency)
	conns   int64 // connections through the proxy: versitygw closes each after one GET
}

func (m measure) mibps(d time.Duration) float64 { return float64(m.bytes) / (1 << 20) / d.Seconds() }
func (m measure) objps() float64                { return float64(m.objects) / m.elapsed.Seconds() }

func (m measure) String() string {
	var proxied string
	if m.conns > 0 {
		proxied = fmt.Sprintf(" fetched %.2fx in %d connections", float64(m.fetched)/float64(m.bytes), m.conns)
	}
	return fmt.Sprintf("%6.2fs %8.1f MiB/s %7.0f obj/s (with sync %6.2fs %8.1f MiB/s) cpu %6.2fs peak RSS %6.1f MiB%s load %s",
		m.elapsed.Seconds(), m.mibps(m.elapsed), m.objps(), m.synced.Seconds(), m.mibps(m.synced), m.cpu.Seconds(), float64(m.rssKiB)/1024,
		proxied, m.load)
}

// object is one object to put: its key and a reader of its bytes.
type object struct {
	key  string
	size int64
	seed uint64
}

func (o object) body() io.Reader { return io.LimitReader(benchkit.RandReader(o.seed), o.size) }

// largeObjects are the large scenario's objects.
func largeObjects(c config) []object {
	objs := make([]object, c.largeCount)
	for i := range objs {
		objs[i] = object{key: fmt.Sprintf("video%02d.mp4", i), size: c.largeSize, seed: c.seed<<32 | 1<<31 | uint64(i)}
	}
	return objs
}

// smallObjects are n objects of c.smallMin to c.smallMax bytes, sizes drawn
// from c.seed and stream; keyf names the i-th.
func smallObjects(c config, n int, stream uint64, keyf func(i int) string) []object {
	rng := rand.New(rand.NewPCG(c.seed, stream))
	objs := make([]object, n)
	for i := range objs {
		objs[i] = object{key: keyf(i), size: c.smallMin + rng.Int64N(c.smallMax-c.smallMin+1), seed: c.seed<<32 | stream<<24 | uint64(i)}
	}
	return objs
}

func total(objs []object) (bytes int64) {
	for _, o := range objs {
		bytes += o.size
	}
	return bytes
}
