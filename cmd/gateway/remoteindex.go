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
		if cfg.Remote.UsersPassphraseFile != "" {
			log.Warn().Msg("remote.users_passphrase_file is set, but the remote is the built-in local copy, which gets no remote index: no secret is sealed with the passphrase")
		}
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
	if s.Secrets, err = remoteIndexSecrets(cfg, a.dir.path); err != nil {
		return nil, err
	}
	ri := &remoteIndex{snap: s, done: make(chan struct{}), log: log}
	go func() {
		defer close(ri.done)
		s.Run(ctx)
	}()
	return ri, nil
}

// remoteIndexSecrets is what seals the access keys' secrets in the remote
// index: nil (no secret leaves the Pi) unless a passphrase is configured.
func remoteIndexSecrets(cfg Config, dataDir string) (remoteindex.SecretSealer, error) {
	passphrase, err := usersPassphrase(cfg.Remote.UsersPassphraseFile, "remote.users_passphrase_file")
	if err != nil || passphrase == "" {
		return nil, err
	}
	journal, err := dataSealer(dataDir)
	if err != nil {
		return nil, err
	}
	return newSnapshotSecrets(passphrase, journal)
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
