package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
	"github.com/ipas/ipas/store"
	"github.com/rs/zerolog"
)

const (
	// localBucket is the archive's bucket; remote keys are ipasPrefix/localBucket/key.
	localBucket = "videos"
	ipasPrefix  = "ipas"
	// donePoll is how often the child checks whether its job left the queue.
	donePoll = 20 * time.Millisecond
	// openTimeout bounds opening the store and the raft journal.
	openTimeout = time.Minute
)

// archive is the local side of IPAS: a blob store and a raft journal in dir.
// The parent holds it only while it queues a job; the child replicates.
type archive struct {
	dir string
	log zerolog.Logger
}

func (a *archive) storeDir() string { return filepath.Join(a.dir, "store") }
func (a *archive) raftDir() string  { return filepath.Join(a.dir, "raft") }

// putBlob stores size bytes of r and returns the blob's digest.
func (a *archive) putBlob(ctx context.Context, r io.Reader) (store.Blob, error) {
	st := store.New(a.storeDir(), a.log)
	if err := st.Open(ctx); err != nil {
		return store.Blob{}, err
	}
	defer st.Close(ctx)
	return st.Put(ctx, r)
}

// queueObject makes key a new object over blob b: the journal now holds
// its replication job.
func (a *archive) queueObject(ctx context.Context, key string, b store.Blob) error {
	n := queue.New(queue.DefaultConfig(a.raftDir()), a.log)
	if err := n.Open(ctx); err != nil {
		return err
	}
	defer n.Close(ctx)
	ok, err := n.BucketExists(localBucket)
	if err != nil {
		return err
	}
	if !ok {
		if err := n.CreateBucket(ctx, localBucket, time.Time{}); err != nil {
			return err
		}
	}
	return n.PutObject(ctx, queue.Object{Bucket: localBucket, Key: key, VersionID: queue.NewVersionID(time.Now()),
		Blob: b.Digest.String(), SHA256: b.Digest.String(), Size: b.Size, ContentType: "application/octet-stream"})
}

// childCommand is this program re-executed to replicate the archive to
// endpoint until the queue is empty.
func childCommand(self string, a *archive, endpoint string) *exec.Cmd {
	return exec.Command(self, "-child", "-dir", a.dir, "-child-endpoint", endpoint)
}

// childResult is the child's last line on stdout.
type childResult struct {
	HWMKiB int64 `json:"hwm_kib"`
}

// runChild replicates the archive in dir until its queue is empty, then
// prints its peak RSS and exits without closing anything (a kill -9 could
// come at any time anyway; everything that matters is journaled).
func runChild(dir, endpoint string) error {
	ctx := context.Background()
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	a := &archive{dir: dir, log: log}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	st := store.New(a.storeDir(), log)
	if err := st.Open(octx); err != nil {
		return err
	}
	n := queue.New(queue.DefaultConfig(a.raftDir()), log)
	if err := n.Open(octx); err != nil {
		return err
	}
	rc := remote.DefaultConfig()
	rc.Endpoint, rc.Bucket, rc.Prefix, rc.PathStyle = endpoint, remoteBucket, ipasPrefix, true
	rc.AccessKey, rc.SecretKey = benchAccessKey, benchSecretKey
	rem, err := remote.New(ctx, rc, log)
	if err != nil {
		return err
	}
	r, err := replication.New(replication.DefaultConfig(), replication.QueueJournal{Node: n}, st, rem, nil, log)
	if err != nil {
		return err
	}
	go r.Run(ctx, replication.QueueJournal{Node: n})
	for {
		js, err := n.Jobs(0, 1)
		if err == nil && len(js) == 0 {
			break
		}
		time.Sleep(donePoll)
	}
	hwm, err := benchkit.PeakRSSKiB("self")
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(childResult{HWMKiB: hwm})
}
