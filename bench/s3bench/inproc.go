package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// startInProcess runs the gateway the way `gateway serve` does (store, journal,
// S3 endpoint over a fresh directory under root) inside this process, so that a
// CPU profile sees its stacks. The client's stacks are in the same profile:
// filter them with pprof's -focus (for example -focus 'gateway|store|net/http.\(\*conn\)').
func startInProcess(ctx context.Context, root string) (*server, error) {
	dir, err := os.MkdirTemp(root, "ipas-inproc-")
	if err != nil {
		return nil, fmt.Errorf("start in-process gateway: %w", err)
	}
	log := zerolog.Nop()
	st := store.New(filepath.Join(dir, "store"), log)
	if err := st.Open(ctx); err != nil {
		return nil, err
	}
	qc := queue.DefaultConfig(filepath.Join(dir, "journal"))
	qc.Inline = st // as openArchive does
	node := queue.New(qc, log)
	if err := node.Open(ctx); err != nil {
		st.Close(ctx)
		return nil, err
	}
	closeAll := func() {
		node.Close(context.Background())
		st.Close(context.Background())
	}
	if err := node.WaitLeader(ctx); err != nil {
		closeAll()
		return nil, err
	}
	cfg := gateway.DefaultConfig(sigv4.StaticCredentials{benchAccessKey: benchSecretKey})
	cfg.RequireRegion = true
	srv := gateway.New(cfg, node, archive.New(st, node), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("start in-process gateway: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &server{name: "ipas gateway", endpoint: "http://" + ln.Addr().String(), pid: os.Getpid(),
		shutdown: cancel, exited: make(chan struct{}), dataDir: dir}
	go func() {
		defer close(s.exited)
		if err := srv.Serve(sctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "s3bench: in-process gateway:", err)
		}
		closeAll()
	}()
	return s, nil
}

// writeHeapProfile writes the allocation profile (every allocation since the start,
// sampled) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memory profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return fmt.Errorf("memory profile: %w", err)
	}
	return nil
}

// startCPUProfile writes a CPU profile to path until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
