package main

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ipas/ipas/admin"
)

// withDisk adds the data directory's file system to the status of a Controller.
type withDisk struct {
	*control // with the archive and diagnostics endpoints (admin.Archive, admin.Diagnostics)
	dir      string
}

var _ admin.Controller = withDisk{}

// Status implements admin.Controller.
func (d withDisk) Status(ctx context.Context) (admin.Status, error) {
	st, err := d.control.Status(ctx)
	if disk, derr := diskUsage(d.dir); derr == nil {
		st.Disk = &disk
	}
	if d.control.cache != nil {
		cs, _ := d.control.CacheStatus(ctx)
		st.Cache = &cs
	}
	return st, err
}

// diskUsage reads the size and the space available to this process of the
// file system that holds dir.
func diskUsage(dir string) (admin.Disk, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return admin.Disk{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := int64(fs.Bsize)
	return admin.Disk{Path: dir, TotalBytes: int64(fs.Blocks) * bs, FreeBytes: int64(fs.Bavail) * bs}, nil
}
