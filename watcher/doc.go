// Package watcher turns drop folders into archived objects. It watches each folder
// recursively with inotify (through fsnotify), waits until a file has held still for
// a quiet window, streams it into the blob store and journals it through the queue,
// exactly as an S3 PUT would. A start-up and periodic reconcile scan finds whatever
// changed while the daemon was down or while events were lost; a small bbolt file
// remembers what was ingested so that unchanged files are never read again.
package watcher
