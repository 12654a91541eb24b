package main

import (
	"fmt"
	"path/filepath"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
)

// The settings of a bucket live in the configuration (drop folders, the
// replication policy), not in the journal. The remote index records them per
// bucket so that a restore can say which the new Pi's configuration lacks.

// bucketSettings completes a snapshot's bucket with its settings in cfg.
func bucketSettings(cfg Config) func(*remoteindex.Bucket) {
	return func(b *remoteindex.Bucket) {
		if p := cfg.Replication.Policies[b.Name]; p != "" {
			b.Policy = p
		} else {
			b.Policy = replication.PolicyArchive
		}
		b.DropFolders = dropFoldersOf(cfg, b.Name)
	}
}

// dropFoldersOf lists the drop folders that feed bucket: those naming it,
// and for those that make a bucket of each first-level directory, that
// directory.
func dropFoldersOf(cfg Config, bucket string) []remoteindex.DropFolder {
	var out []remoteindex.DropFolder
	for _, f := range cfg.Drop.Folders {
		switch f.Bucket {
		case bucket:
			out = append(out, remoteindex.DropFolder{Path: f.Path, Prefix: f.Prefix})
		case "":
			out = append(out, remoteindex.DropFolder{Path: filepath.Join(f.Path, bucket), Prefix: f.Prefix})
		}
	}
	return out
}

// bucketSettingHints says, for each restored bucket, which of its recorded
// settings the configuration does not have, and how to add them.
func bucketSettingHints(cfg Config, buckets []remoteindex.Bucket) []string {
	var out []string
	for _, b := range buckets {
		want := replication.PolicyArchive
		if p := cfg.Replication.Policies[b.Name]; p != "" {
			want = p
		}
		if b.Policy != "" && b.Policy != want {
			out = append(out, fmt.Sprintf("bucket %s: its replication policy was %q, the configuration says %q: add it under replication.policies (%s: %s)",
				b.Name, b.Policy, want, b.Name, b.Policy))
		}
		have := map[remoteindex.DropFolder]bool{}
		for _, f := range dropFoldersOf(cfg, b.Name) {
			have[f] = true
		}
		for _, f := range b.DropFolders {
			if !have[f] {
				out = append(out, fmt.Sprintf("bucket %s: it was fed by the drop folder %s (prefix %q), which the configuration lacks: add it under drop.folders (path: %s, bucket: %s, prefix: %q)",
					b.Name, f.Path, f.Prefix, f.Path, b.Name, f.Prefix))
			}
		}
	}
	return out
}
