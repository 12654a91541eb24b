// Package testutil holds helpers shared by IPAS's tests: real servers to test against
// (versitygw, toxiproxy) and checks for the external tools a test drives.
package testutil

import (
	"os"
	"testing"
)

// EnvRequireTools, when set (as .ci/run does), turns a missing external tool into a
// test failure instead of a skip, so CI cannot pass by skipping.
const EnvRequireTools = "IPAS_REQUIRE_TOOLS"

// MissingTool skips the test, or fails it under EnvRequireTools, because tool is not
// installed; install says how to get it.
func MissingTool(t testing.TB, tool, install string) {
	t.Helper()
	if os.Getenv(EnvRequireTools) != "" {
		t.Fatalf("%s is not installed (%s is set): %s", tool, EnvRequireTools, install)
	}
	t.Skipf("%s is not installed: %s", tool, install)
}
