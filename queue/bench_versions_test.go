package queue

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkVersioningApply is the state machine alone (as BenchmarkApplyEntry)
// with versioning off and Enabled, side by side: 512-command entries of new
// keys, of overwrites (4,096 keys round and round), and of deletes of keys
// just put (the puts untimed).
func BenchmarkVersioningApply(b *testing.B) {
	for _, load := range []string{"put", "overwrite", "delete"} {
		for _, state := range []string{"off", VersioningEnabled} {
			b.Run(load+"/versioning="+state, func(b *testing.B) {
				db, err := bolt.Open(filepath.Join(b.TempDir(), fsmFile), 0o600, &bolt.Options{NoSync: os.Getenv("QUEUE_BENCH_NOSYNC") != ""})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				apply := func(cmds ...command) {
					var entry []byte
					for _, c := range cmds {
						entry = appendEntry(entry, c.encode())
					}
					if err := db.Update(func(tx *bolt.Tx) error { _, _, err := applyEntry(tx, entry, nil); return err }); err != nil {
						b.Fatal(err)
					}
				}
				db.Update(initSchema)
				apply(command{Op: opBucketCreate, Time: time.Now(), Bucket: "bench"})
				if state != "off" {
					apply(command{Op: opBucketSet, Time: time.Now(), Bucket: "bench", Setting: BucketSetting{Name: SettingVersioning, Value: state}})
				}
				const perEntry = 512
				var i int64
				puts := func() []command {
					cmds := make([]command, perEntry)
					for j := range cmds {
						i++
						o := benchObject(i)
						if load == "overwrite" {
							o = benchObject(i % 4096)
							o.VersionID = NewVersionID(time.Now())
						}
						cmds[j] = command{Op: opObjectPut, Time: time.Now(), Bucket: o.Bucket, Key: o.Key, Object: o}
					}
					return cmds
				}
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					cmds := puts()
					if load == "delete" {
						apply(cmds...)
						for j := range cmds {
							cmds[j] = command{Op: opObjectDelete, Time: time.Now(), Bucket: "bench", Key: cmds[j].Key, ID: NewVersionID(time.Now())}
						}
					}
					b.StartTimer()
					apply(cmds...)
				}
				b.ReportMetric(float64(b.N*perEntry)/b.Elapsed().Seconds(), "cmds/s")
			})
		}
	}
}
