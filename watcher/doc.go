// Package watcher turns drop folders into archived objects. It watches each folder
// recursively with inotify, waits until a file's writer is done with it, streams it
// into the blob store and journals it through the queue, exactly as an S3 PUT
// would. A start-up and periodic reconcile scan finds whatever changed while the
// daemon was down or while events were lost; a small bbolt file remembers what was
// ingested so that unchanged files are never read again.
//
// When a file is done. A file is archived once it has been quiet for the folder's
// quiet window (no event, size and mtime unchanged) and, where the kernel can tell,
// no process holds it open for writing:
//
//   - In a watched directory, a file that was written to (or created empty) waits
//     for inotify's IN_CLOSE_WRITE, however long its writer pauses; the quiet window
//     then runs from the close, for writers that close and reopen a file.
//     fsnotify does not export close-write, so the package reads inotify itself
//     (notifier): one instance, one watch per directory, events in kernel order.
//   - Just before a file is read, a read lease (fcntl F_SETLEASE) is tried on it:
//     the kernel refuses one exactly when some process has the file open for
//     writing. This covers what no event says: files found by the start-up scan
//     (written when the daemon stopped), polled trees, lost events. A lease needs
//     the file's owner or CAP_LEASE and a local filesystem; without them the probe
//     is silent.
//   - Where neither applies (a tree polled for lack of inotify watches, whose files
//     belong to another user without CAP_LEASE; a file that appears by link(2)
//     while empty waits for its next close or a restart), the quiet window alone
//     decides, as it always did: a writer that pauses longer than the window gets
//     a partial version, superseded by the complete one after its close.
//
// Whatever the route, a file that changes while it is read is discarded and read
// again later, never archived half-written.
//
// Names. In a folder without a bucket, each first-level directory is a bucket. A
// directory whose name is not a valid bucket name ("My Photos", "UPPER") is
// refused, not renamed: one WARN line per directory with a suggested name, and
// the list in Watcher.SkippedDirs (shown by `gateway status`) until it is renamed.
//
// Logs. One info line per archived file (bucket, key, size) and one with the
// totals of each full scan.
package watcher
