package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// envCPUProfile names a file for a CPU profile of the whole command, for
// benchmarks (bench/restorebench -cpuprofile); it is not a user setting.
const envCPUProfile = "IPAS_CPUPROFILE"

// startCPUProfile profiles the process into $IPAS_CPUPROFILE, when set, until
// the returned function is called.
func startCPUProfile(stderr io.Writer) (stop func()) {
	path := os.Getenv(envCPUProfile)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gateway: %s: %v\n", envCPUProfile, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
