package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/remoteindex"
)

// remoteIndexTempDir is where a snapshot is written before it is uploaded.
const remoteIndexTempDir = "remote-index"

// remoteIndex uploads the remote index snapshot; nil when the copy is the
// embedded local one, which a restore cannot use.
type remoteIndex struct {
	snap *remoteindex.Snapshotter
	done chan struct{}
	log  zerolog.Logger
}

// startRemoteIndex starts the periodic uploads of the index snapshot next to
// the remote copy (remote.index_interval).
func startRemoteIndex(ctx context.Context, cfg Config, a *dataArchive, rep *replicator, log zerolog.Logger) (*remoteIndex, error) {
	if rep.local != nil {
		return nil, nil
	}
	id, err := loadOrCreateArchiveID(a.dir.path)
	if err != nil {
		return nil, err
	}
	tmp := a.dir.join(remoteIndexTempDir)
	identity := remoteindex.Identity{ArchiveID: id, Endpoint: rep.remote.Endpoint, Bucket: rep.remote.Bucket, Prefix: rep.remote.Prefix}
	s, err := remoteindex.NewSnapshotter(a.node, rep.client, identity, tmp, log)
	if err != nil {
		return nil, err
	}
	s.Interval = cfg.Remote.IndexInterval
	s.Program = "ipas " + version
	s.Settings = bucketSettings(cfg)
	ri := &remoteIndex{snap: s, done: make(chan struct{}), log: log}
	go func() {
		defer close(ri.done)
		s.Run(ctx)
	}()
	return ri, nil
}

// uploadAtShutdown waits for the periodic loop (its context must be
// cancelled) and uploads a last snapshot if the index changed, within ctx.
func (ri *remoteIndex) uploadAtShutdown(ctx context.Context) {
	if ri == nil {
		return
	}
	<-ri.done
	if _, err := ri.snap.UploadIfChanged(ctx); err != nil {
		ri.log.Warn().Err(err).Msg("remote index not uploaded at shutdown; restore works without it (more slowly), and the next start uploads one")
	}
}
