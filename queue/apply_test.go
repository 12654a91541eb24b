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
// overwrites, retries, deletes, multipart uploads, composite objects and
// replication progress.
func randomCommands(seed uint64, count int) []command {
	r := rand.New(rand.NewPCG(seed, seed))
	base := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var cmds []command
	var versions []string
	type target struct{ bucket, key string }
	var uploads []string
	uploadOf := map[string]target{}
	versionOf := map[string]target{} // for ObjectRequeue and ReplicaFound
	composite := func(o *Object, parts int) {
		o.Blob, o.SHA256, o.Size = "", blobOf(fmt.Sprint(r.IntN(30))), 0
		for range parts {
			p := ObjectPart{Blob: blobOf(fmt.Sprint(r.IntN(30))), Size: int64(r.IntN(9))}
			o.Parts = append(o.Parts, p)
			o.Size += p.Size
		}
	}
	for i := 0; i < count; i++ {
		at := base.Add(time.Duration(i) * time.Second)
		// b3 gets no plain puts: it is empty often enough to be deleted
		// with uploads in progress.
		bucket := fmt.Sprintf("b%d", r.IntN(4))
		key := fmt.Sprintf("k%d", r.IntN(40))
		if bucket == "b3" {
			key = fmt.Sprintf("k%d", r.IntN(2))
		}
		job := ""
		if len(versions) > 0 {
			job = versions[r.IntN(len(versions))]
		}
		up := ""
		if len(uploads) > 0 {
			up = uploads[r.IntN(len(uploads))]
		}
		switch p := r.IntN(100); {
		case p < 5 && r.IntN(6) == 0:
			cmds = append(cmds, command{Op: opRemoteSet, Time: at, Remote: RemoteIdentity{Endpoint: "http://r", Bucket: bucket}})
		case p < 5 && r.IntN(4) == 0:
			value := []string{"", "<CORSConfiguration/>"}[r.IntN(2)]
			setting := BucketSetting{Name: SettingCORS, Value: value}
			if r.IntN(2) == 0 {
				setting = BucketSetting{Name: SettingVersioning, Value: []string{VersioningEnabled, VersioningSuspended}[r.IntN(2)]}
			}
			cmds = append(cmds, command{Op: opBucketSet, Time: at, Bucket: bucket, Setting: setting})
		case p < 5:
			cmds = append(cmds, command{Op: opBucketCreate, Time: at, Bucket: bucket})
		case p < 7:
			cmds = append(cmds, command{Op: opBucketDelete, Time: at, Bucket: bucket})
		case p < 50:
			bucket = fmt.Sprintf("b%d", r.IntN(3))
			o := testObject(bucket, key, fmt.Sprint(r.IntN(30)))
			o.VersionID = fmt.Sprintf("v%06d", i)
			o.ModTime = at
			o.Checksums = map[string]string{"CRC32": "AAAAAA==", "SHA1": "x"}
			if r.IntN(5) == 0 {
				composite(&o, 1+r.IntN(3)) // a copy of a multipart object
			}
			c := command{Op: opObjectPut, Time: at, Bucket: bucket, Key: key, Object: o}
			if r.IntN(8) == 0 { // restored from the remote, sometimes older than the local version
				c.Restored, c.Object.ModTime = true, at.Add(-time.Duration(r.IntN(120))*time.Second)
				c.Object.Replica = Replica{ETag: "e", Size: o.Size, At: at}
			}
			cmds = append(cmds, c)
			if c.Restored && r.IntN(2) == 0 { // offsite: evictable
				cmds = append(cmds, command{Op: opObjectEvict, Time: at, Bucket: bucket, Key: key, ID: o.VersionID})
			}
			versions = append(versions, o.VersionID)
			versionOf[o.VersionID] = target{bucket, key}
		case p < 55 && len(cmds) > 0:
			cmds = append(cmds, cmds[r.IntN(len(cmds))]) // a retry
		case p < 62:
			cmds = append(cmds, command{Op: opObjectDelete, Time: at, Bucket: bucket, Key: key, ID: fmt.Sprintf("d%06d", i)})
		case p < 67 && job != "":
			c := command{Op: opJobDone, Time: at, ID: job}
			if r.IntN(2) == 0 {
				c.Replica = Replica{ETag: "e", Size: int64(r.IntN(9)), At: at}
			}
			cmds = append(cmds, c)
		case p < 72:
			id := fmt.Sprintf("u%06d", i)
			uploads = append(uploads, id)
			uploadOf[id] = target{bucket, key}
			cmds = append(cmds, command{Op: opUploadCreate, Time: at, Bucket: bucket, Key: key, ID: id,
				Upload: Upload{ContentType: "text/plain", Metadata: map[string]string{"m": "1"}, ChecksumAlgorithm: "CRC32"}})
		case p < 80 && up != "":
			content := fmt.Sprint(r.IntN(30))
			cmds = append(cmds, command{Op: opUploadPart, Time: at, ID: up, UploadPart: UploadPart{Number: 1 + r.IntN(5),
				Blob: blobOf(content), Size: int64(len(content)), ETag: "0123456789abcdef0123456789abcdef", ModTime: at}})
		case p < 83 && up != "":
			cmds = append(cmds, command{Op: opUploadAbort, Time: at, ID: up})
		case p < 87 && up != "":
			tg := uploadOf[up]
			o := testObject(tg.bucket, tg.key, "")
			o.VersionID = fmt.Sprintf("v%06d", i)
			o.ModTime = at
			composite(&o, 1+r.IntN(3))
			cmds = append(cmds, command{Op: opUploadComplete, Time: at, Bucket: tg.bucket, Key: tg.key, ID: up, Object: o})
			versions = append(versions, o.VersionID)
			versionOf[o.VersionID] = tg
		case p < 90 && job != "":
			tg := versionOf[job]
			c := command{Op: opObjectRequeue, Time: at, Bucket: tg.bucket, Key: tg.key, ID: job}
			switch r.IntN(7) {
			case 0:
				c.Op, c.Replica = opReplicaFound, Replica{ETag: "found", Size: int64(r.IntN(9)), At: at}
			case 1:
				c.Op = opObjectEvict
			case 2:
				c.Op = opObjectDeleteVersion
			case 3:
				c.Op, c.ID = opObjectDeleteVersion, NullVersionID
			case 4:
				c.Op, c.ID, c.Object.Metadata = opObjectRetag, []string{job, NullVersionID}[r.IntN(2)], map[string]string{"x-amz-tagging": "k=v"}
			}
			cmds = append(cmds, c)
		case job != "":
			c := command{Time: at, ID: job, UploadID: fmt.Sprintf("r%d", r.IntN(2))}
			switch r.IntN(6) {
			case 0:
				c.Op, c.PartSize = opJobStarted, 8<<20
			case 1:
				c.Op, c.JobPart = opJobPartDone, Part{Number: 1 + r.IntN(4), ETag: "e", Size: 8 << 20, Checksum: "AAAAAA=="}
			case 2:
				c.Op, c.Text, c.At = opJobFailed, "timeout", at.Add(time.Minute)
			case 3:
				c.Op, c.Text = opJobQuarantined, "poison"
			case 4:
				c.Op = opJobReset
			case 5:
				c.Op = opJobRetry
			}
			cmds = append(cmds, c)
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
			res, _, err := applyEntry(tx, entry, nil)
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
	// Every command type had a visible effect at least once.
	seen := map[cmdOp]bool{}
	for i, c := range cmds {
		if res1[i] == nil {
			seen[c.Op] = true
		}
	}
	for op := opBucketCreate; op <= opLast; op++ {
		if !seen[op] {
			t.Errorf("no %s succeeded: the generator does not exercise it", op)
		}
	}
	db1.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktUploads).Stats().KeyN == 0 || tx.Bucket(bktUpParts).Stats().KeyN == 0 {
			t.Error("no upload left in progress: the generator does not exercise them")
		}
		return nil
	})
	// Replaying puts (as a proposer retrying after a lost leadership does)
	// changes nothing, even when newer versions replaced them meanwhile.
	var puts []command
	for b := 0; b < 3; b++ {
		puts = append(puts, command{Op: opBucketCreate, Time: time.Unix(1, 0), Bucket: fmt.Sprintf("b%d", b)})
	}
	// Restored puts are left out: one drops the job of the version it
	// replaces, after which a retry of that version's put is no longer
	// recognised, exactly as after the job's JobDone.
	for _, c := range cmds {
		if c.Op == opObjectPut && !c.Restored {
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
		_, _, err := applyEntry(tx, appendEntry(nil, unknown.encode()), nil)
		return err
	})
	if err == nil {
		t.Fatal("an unknown command type was applied; a node would silently diverge")
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, _, err := applyEntry(tx, []byte{entryFormat + 1, 0}, nil)
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
	o.VersionID = "v1"
	j := Job{ID: "v1", Op: JobPut, Bucket: "b", Key: "k", VersionID: "v1", Blob: o.Blob, Size: o.Size, Object: o,
		Created: o.ModTime, State: JobUploading, UploadID: "up", PartSize: 8 << 20,
		PartsDone: []Part{{Number: 1, ETag: "e1", Size: 8 << 20, Checksum: "AAAAAA=="}, {Number: 2, ETag: "e2", Size: 1}},
		Attempts:  2, LastError: "timeout", LastFailure: o.ModTime.Add(time.Second), NotBefore: o.ModTime.Add(time.Minute),
		Quarantined: true}
	composite := j
	composite.Object.Blob, composite.Blob = "", ""
	composite.Object.Parts = []ObjectPart{{Blob: blobOf("p1"), Size: 5}, {Blob: blobOf("p2"), Size: 4}}
	del := Job{ID: "d1", Op: JobDelete, Bucket: "b", Key: "k", VersionID: "v1", Created: o.ModTime}
	for _, j := range []Job{j, composite, del} {
		var got Job
		if err := decodeJob(encodeJob(&j, nil), &got); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(j) {
			t.Fatalf("job round trip:\n got %+v\nwant %+v", got, j)
		}
	}
	// A job stored before jobs kept their object still names its blob.
	old := encoder{}
	old.str(jobID, "v0")
	old.uint(jobOp, uint64(JobPut))
	old.str(jobBucket, "b")
	old.str(jobKey, "k")
	old.hex(jobBlob, jobBlobStr, o.Blob)
	old.int(jobSize, 9)
	var got Job
	if err := decodeJob(old.b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Blob != o.Blob || got.Object.Blob != o.Blob || got.Object.Size != 9 || got.Object.Key != "k" || got.Object.VersionID != "v0" {
		t.Fatalf("schema 1 job decoded as %+v", got)
	}
	if err := decodeObject([]byte{0x12, 0x50}, &Object{}); err == nil {
		t.Fatal("a truncated record decoded without error")
	}
}
