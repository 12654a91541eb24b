package queue

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// randomCommands builds a reproducible mix of every command type, with
// overwrites, retries, deletes and jobs finishing.
func randomCommands(seed uint64, count int) []command {
	r := rand.New(rand.NewPCG(seed, seed))
	base := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var cmds []command
	var versions []string
	for i := 0; i < count; i++ {
		at := base.Add(time.Duration(i) * time.Second)
		bucket := fmt.Sprintf("b%d", r.IntN(3))
		key := fmt.Sprintf("k%d", r.IntN(40))
		switch p := r.IntN(100); {
		case p < 5:
			cmds = append(cmds, command{Op: opBucketCreate, Time: at, Bucket: bucket})
		case p < 7:
			cmds = append(cmds, command{Op: opBucketDelete, Time: at, Bucket: bucket})
		case p < 70:
			o := testObject(bucket, key, fmt.Sprint(r.IntN(30)))
			o.VersionID = fmt.Sprintf("v%06d", i)
			o.ModTime = at
			o.Checksums = map[string]string{"CRC32": "AAAAAA==", "SHA1": "x"}
			cmds = append(cmds, command{Op: opObjectPut, Time: at, Bucket: bucket, Key: key, Object: o})
			versions = append(versions, o.VersionID)
		case p < 75 && len(cmds) > 0:
			cmds = append(cmds, cmds[r.IntN(len(cmds))]) // a retry
		case p < 85:
			cmds = append(cmds, command{Op: opObjectDelete, Time: at, Bucket: bucket, Key: key, ID: fmt.Sprintf("d%06d", i)})
		case len(versions) > 0:
			cmds = append(cmds, command{Op: opJobDone, Time: at, ID: versions[r.IntN(len(versions))]})
		}
	}
	return cmds
}

// applyAll applies cmds to a fresh database, batch commands per entry.
func applyAll(t *testing.T, cmds []command, batch int) (*bolt.DB, []error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), fsmFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(initSchema); err != nil {
		t.Fatal(err)
	}
	var results []error
	for start := 0; start < len(cmds); start += batch {
		var entry []byte
		for i := start; i < min(start+batch, len(cmds)); i++ {
			entry = appendEntry(entry, cmds[i].encode())
		}
		err := db.Update(func(tx *bolt.Tx) error {
			res, err := applyEntry(tx, entry)
			results = append(results, res...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return db, results
}

// dump renders every key and value of every bucket, nested ones included.
func dump(t *testing.T, db *bolt.DB) []byte {
	var out bytes.Buffer
	var walk func(prefix string, b *bolt.Bucket)
	walk = func(prefix string, b *bolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				walk(prefix+string(k)+"/", b.Bucket(k))
				return nil
			}
			fmt.Fprintf(&out, "%s%x=%x\n", prefix, k, v)
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			walk(string(name)+"/", b)
			return nil
		})
	})
	return out.Bytes()
}

func TestApplyIsDeterministic(t *testing.T) {
	cmds := randomCommands(42, 2000)
	db1, res1 := applyAll(t, cmds, 1)
	db2, res2 := applyAll(t, cmds, 37)
	d1, d2 := dump(t, db1), dump(t, db2)
	if !bytes.Equal(d1, d2) {
		t.Fatal("the same commands produced different databases")
	}
	if len(res1) != len(cmds) || len(res2) != len(cmds) {
		t.Fatalf("results: %d and %d for %d commands", len(res1), len(res2), len(cmds))
	}
	for i := range res1 {
		if fmt.Sprint(res1[i]) != fmt.Sprint(res2[i]) {
			t.Fatalf("command %d: result %v vs %v", i, res1[i], res2[i])
		}
	}
	if len(d1) < 1000 {
		t.Fatalf("replay produced almost nothing (%d bytes): the generator is broken", len(d1))
	}
	// Replaying puts (as a proposer retrying after a lost leadership does)
	// changes nothing, even when newer versions replaced them meanwhile.
	var puts []command
	for b := 0; b < 3; b++ {
		puts = append(puts, command{Op: opBucketCreate, Time: time.Unix(1, 0), Bucket: fmt.Sprintf("b%d", b)})
	}
	for _, c := range cmds {
		if c.Op == opObjectPut {
			puts = append(puts, c)
		}
	}
	db3, _ := applyAll(t, puts, 50)
	once := dump(t, db3)
	db3.Update(func(tx *bolt.Tx) error {
		for _, c := range puts {
			if _, err := applyCommand(tx, &c); err != nil {
				return err
			}
		}
		return nil
	})
	if !bytes.Equal(once, dump(t, db3)) {
		t.Fatal("re-applying the same puts changed the database")
	}
}

func TestApplyRefusesUnknownCommands(t *testing.T) {
	db, _ := applyAll(t, nil, 1)
	unknown := command{Op: 200, Time: time.Now(), Bucket: "b"}
	err := db.Update(func(tx *bolt.Tx) error {
		_, err := applyEntry(tx, appendEntry(nil, unknown.encode()))
		return err
	})
	if err == nil {
		t.Fatal("an unknown command type was applied; a node would silently diverge")
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := applyEntry(tx, []byte{entryFormat + 1, 0})
		return err
	})
	if err == nil {
		t.Fatal("an unknown entry format was applied")
	}
}

func TestRecordsRoundTripAndSkipUnknownFields(t *testing.T) {
	o := testObject("b", "k", "x")
	o.ETag = "0123456789abcdef0123456789abcdef-3"
	o.Checksums = map[string]string{"CRC32": "AAAAAA=="}
	enc := encodeObject(&o)
	// A field added by a later version must not break this one.
	future := encoder{b: append([]byte(nil), enc...)}
	future.str(99, "from the future")
	future.uint(98, 7)
	for _, b := range [][]byte{enc, future.b} {
		got := Object{Bucket: "b", Key: "k"}
		if err := decodeObject(b, &got); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(o) {
			t.Fatalf("object round trip:\n got %+v\nwant %+v", got, o)
		}
	}
	j := Job{ID: "v1", Op: JobPut, Bucket: "b", Key: "k", VersionID: "v1", Blob: o.Blob, Size: 9,
		Created: o.ModTime, State: JobUploading, UploadID: "up", PartSize: 8 << 20,
		PartsDone: []Part{{Number: 1, ETag: "e1", Size: 8 << 20}, {Number: 2, ETag: "e2", Size: 1}}, Attempts: 2, LastError: "timeout"}
	var got Job
	if err := decodeJob(encodeJob(&j), &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(j) {
		t.Fatalf("job round trip:\n got %+v\nwant %+v", got, j)
	}
	if err := decodeObject([]byte{0x12, 0x50}, &Object{}); err == nil {
		t.Fatal("a truncated record decoded without error")
	}
}
