package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// maxUploadExpiryInterval bounds how often expireUploads looks for old
// multipart uploads; a shorter age is looked for four times per age.
const maxUploadExpiryInterval = time.Hour

// expireUploads aborts, on the leader, every multipart upload older than
// age (s3.abort_incomplete_uploads_after), at start and then every
// interval, as S3's AbortIncompleteMultipartUpload lifecycle rule does,
// and has the collector free their parts at once. It returns when ctx
// ends; age 0 turns it off.
func expireUploads(ctx context.Context, a *dataArchive, age time.Duration, log zerolog.Logger) {
	if age <= 0 {
		return
	}
	log = log.With().Str("component", "uploads").Logger()
	interval := min(maxUploadExpiryInterval, max(age/4, time.Second))
	a.node.RunAsLeader(ctx, func(term context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			aborted, err := a.node.AbortUploadsBefore(term, time.Now().Add(-age))
			switch {
			case err != nil && term.Err() == nil:
				log.Warn().Err(err).Msg("abort incomplete multipart uploads")
			case len(aborted) > 0:
				oldest := aborted[0].Created
				for _, u := range aborted {
					if u.Created.Before(oldest) {
						oldest = u.Created
					}
				}
				log.Info().Int("uploads", len(aborted)).Dur("older_than", age).Time("oldest", oldest).
					Msg("aborted incomplete multipart uploads (s3.abort_incomplete_uploads_after); their parts are collected")
				a.store.CollectSoon()
			}
			select {
			case <-term.Done():
				return
			case <-t.C:
			}
		}
	})
}
