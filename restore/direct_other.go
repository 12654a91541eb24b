//go:build !linux

package restore

import (
	"errors"
	"os"
)

// openDirect: direct writes are only used on Linux.
func openDirect(string) (*os.File, error) { return nil, errors.ErrUnsupported }
