package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelp: `gateway --help`, `gateway -h` and `gateway help` list the
// commands; the first two also give serve's flags, and exit 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"serve", "--help"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 {
			t.Errorf("gateway %v: exit %d", args, code)
		}
		all := out.String() + errOut.String()
		for _, want := range []string{"Commands:", "status", "replication", "alert", "restore"} {
			if !strings.Contains(all, want) {
				t.Errorf("gateway %v does not list %q:\n%s", args, want, all)
			}
		}
		if args[0] != "help" && !strings.Contains(all, "-data-dir") {
			t.Errorf("gateway %v does not give serve's flags:\n%s", args, all)
		}
	}
}
