//go:build slow

package watcher

import (
	"testing"
	"time"
)

// TestWriterPause100MiB is the case a user met: a writer that stalls for 10 s
// half-way through a 100 MiB file, with the default quiet window.
func TestWriterPause100MiB(t *testing.T) {
	pausedWriter(t, 100, 10*time.Second, DefaultQuietWindow, nil)
}
