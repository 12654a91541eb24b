package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/watcher"
)

// dropStatus is what the status needs of the drop folders; *watcher.Watcher
// implements it.
type dropStatus interface {
	SkippedDirs() []watcher.SkippedDir
}

var _ dropStatus = (*watcher.Watcher)(nil)

// dropReport turns the watcher's state into the API's; d may be nil.
func dropReport(d dropStatus) admin.Drop {
	out := admin.Drop{Skipped: []admin.SkippedDir{}}
	if d == nil {
		return out
	}
	for _, s := range d.SkippedDirs() {
		out.Skipped = append(out.Skipped, admin.SkippedDir{Folder: s.Folder, Dir: s.Dir, Reason: s.Reason, Suggestion: s.Suggestion})
	}
	return out
}

// printSkippedDirs lists the drop-folder directories that are not archived.
func printSkippedDirs(w io.Writer, dirs []admin.SkippedDir) {
	if len(dirs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nNot archived (drop-folder directories whose names are not bucket names; rename them):\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FOLDER\tDIRECTORY\tRENAME TO")
	for _, d := range dirs {
		to := d.Suggestion
		if to == "" {
			to = "-"
		}
		fmt.Fprintf(tw, "%s\t%q\t%s\n", d.Folder, d.Dir, to)
	}
	tw.Flush()
}
