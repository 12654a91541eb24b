package replication_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
	"github.com/ipas/ipas/store"
	"github.com/rs/zerolog"
)

// Environment of the child process that TestResumeAfterKill kills with SIGKILL.
const (
	envChildDir      = "IPAS_REPL_CHILD_DIR"
	envChildEndpoint = "IPAS_REPL_CHILD_ENDPOINT"
	envChildKey      = "IPAS_REPL_CHILD_KEY"
	envChildSecret   = "IPAS_REPL_CHILD_SECRET"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envChildDir); dir != "" {
		if err := runChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild replicates dir's journal until it is killed.
func runChild(dir string) error {
	ctx := context.Background()
	log := zerolog.New(os.Stderr).Level(zerolog.InfoLevel)
	st := store.New(filepath.Join(dir, "store"), log)
	if err := st.Open(ctx); err != nil {
		return err
	}
	j, err := openFileJournal(filepath.Join(dir, "journal.json"))
	if err != nil {
		return err
	}
	rc := remote.DefaultConfig()
	rc.Endpoint, rc.Bucket, rc.Prefix, rc.PathStyle = os.Getenv(envChildEndpoint), remoteBucket, "pi1", true
	rc.AccessKey, rc.SecretKey = os.Getenv(envChildKey), os.Getenv(envChildSecret)
	rem, err := remote.New(ctx, rc, log, remote.WithResponseTimeout(3*time.Second))
	if err != nil {
		return err
	}
	r, err := replication.New(testConfig(), j, st, rem, replication.NewBandwidth(resumeCap, nil), log)
	if err != nil {
		return err
	}
	r.RunTerm(ctx)
	return nil
}
