//go:build slow

package main

import (
	"testing"

	"github.com/ipas/ipas/restore"
)

// TestRestore_ResumeAfterKill1GiB is the figure: kill -9 at 50% of
// the restore of a 1 GiB object, then run it again.
func TestRestore_ResumeAfterKill1GiB(t *testing.T) {
	testResumeAfterKill(t, 1<<30, restore.DefaultRangeSize, 100<<20)
}
