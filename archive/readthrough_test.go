package archive

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
)

// memRemote is a remote copy in memory that counts the bytes it sends.
type memRemote struct {
	mu      sync.Mutex
	objects map[string][]byte
	etag    string
	down    bool
	sent    atomic.Int64
	gets    atomic.Int64
	delay   time.Duration
}

func (m *memRemote) GetRange(ctx context.Context, o queue.Object, off, length int64) (io.ReadCloser, RemoteCopy, error) {
	m.mu.Lock()
	data, ok := m.objects[o.Bucket+"/"+o.Key]
	down := m.down
	m.mu.Unlock()
	if down {
		return nil, RemoteCopy{}, errors.New("dial tcp 127.0.0.1:9: connection refused")
	}
	if !ok {
		return nil, RemoteCopy{}, fmt.Errorf("no such key: %w", ErrRemoteMissing)
	}
	time.Sleep(m.delay)
	m.gets.Add(1)
	m.sent.Add(length)
	return io.NopCloser(bytes.NewReader(data[off : off+length])), RemoteCopy{ETag: m.etag, Size: int64(len(data))}, nil
}

// remoteOnlyObject journals content as bucket b, key, with its bytes on the
// remote only (parts: the client's part sizes, or nil), and returns it.
func remoteOnlyObject(t *testing.T, a *testArchive, key string, content []byte, parts []int64) queue.Object {
	t.Helper()
	sum := sha256.Sum256(content)
	m := md5.Sum(content)
	o := queue.Object{Bucket: "b", Key: key, VersionID: queue.NewVersionID(time.Now()), Size: int64(len(content)),
		ETag: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(sum[:]), ModTime: time.Now().Truncate(time.Second),
		Replica: queue.Replica{ETag: "remote-etag", Size: int64(len(content))}}
	if len(parts) > 0 {
		h := md5.New()
		var off int64
		for _, p := range parts {
			pm := md5.Sum(content[off : off+p])
			h.Write(pm[:])
			off += p
		}
		o.ETag = fmt.Sprintf("%x-%d", h.Sum(nil), len(parts))
	}
	o = RemoteOnly(o, parts)
	if ok, err := a.node.PutRestoredObject(context.Background(), o); err != nil || !ok {
		t.Fatalf("journal %s: %v %v", key, ok, err)
	}
	got, err := a.node.Object("b", key)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func readRemote(ctx context.Context, a *testArchive, o queue.Object, off, length int64) ([]byte, error) {
	rc, err := a.OpenRemote(ctx, o, off, length)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestReadThrough: remote-only objects read through byte-identical, a range
// fetches only its blocks, concurrent readers share fetches, a whole read
// re-caches by policy, and a damaged or unreachable remote is an error,
// never wrong bytes, and nothing is cached.
func TestReadThrough(t *testing.T) {
	ctx := context.Background()
	a := openArchive(t, t.TempDir())
	defer a.close(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), (5*BlockSize+12345)/16)
	mp := append(bytes.Clone(big), []byte("tail")...)
	rem := &memRemote{objects: map[string][]byte{"b/big": big, "b/mp": mp, "b/bad": bytes.Clone(big)}, etag: "remote-etag"}
	a.SetReadThrough(NewReadThrough(rem, "memremote", a.node, CacheNever, zerolog.New(zerolog.NewTestWriter(t))))
	if !a.ReadsThrough() {
		t.Fatal("ReadsThrough is false after SetReadThrough")
	}
	o := remoteOnlyObject(t, a, "big", big, nil)

	t.Run("range", func(t *testing.T) {
		before := rem.sent.Load()
		off, n := int64(2*BlockSize+100), int64(1000)
		got, err := readRemote(ctx, a, o, off, n)
		if err != nil || !bytes.Equal(got, big[off:off+n]) {
			t.Fatalf("range: %v, %d bytes", err, len(got))
		}
		if sent := rem.sent.Load() - before; sent > BlockSize {
			t.Errorf("a %d-byte range fetched %d bytes, want at most one block", n, sent)
		}
	})
	t.Run("concurrent whole reads share fetches", func(t *testing.T) {
		a.rt.Load().group = newBlockGroup()
		rem.delay = 20 * time.Millisecond
		defer func() { rem.delay = 0 }()
		before := rem.sent.Load()
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got, err := readRemote(ctx, a, o, 0, o.Size); err != nil || !bytes.Equal(got, big) {
					t.Errorf("whole read: %v, %d bytes", err, len(got))
				}
			}()
		}
		wg.Wait()
		if sent := rem.sent.Load() - before; sent != o.Size {
			t.Errorf("16 concurrent reads fetched %d bytes from the remote, want each byte once (%d)", sent, o.Size)
		}
		if cur, _ := a.node.Object("b", "big"); !cur.RemoteOnly {
			t.Error("cache_on_read never: the object became local")
		}
	})
	t.Run("corrupt remote copy", func(t *testing.T) {
		bad := remoteOnlyObject(t, a, "bad", big, nil)
		rem.mu.Lock()
		rem.objects["b/bad"][3*BlockSize+7] ^= 1
		rem.mu.Unlock()
		a.SetReadThrough(NewReadThrough(rem, "memremote", a.node, CacheAlways, zerolog.Nop()))
		got, err := readRemote(ctx, a, bad, 0, bad.Size)
		if !errors.Is(err, ErrRemoteCorrupt) || int64(len(got)) >= bad.Size {
			t.Fatalf("whole read of a damaged copy: %v after %d of %d bytes; want ErrRemoteCorrupt before the end", err, len(got), bad.Size)
		}
		if cur, _ := a.node.Object("b", "bad"); !cur.RemoteOnly {
			t.Error("the damaged object was cached")
		}
	})
	t.Run("cache on read", func(t *testing.T) {
		a.SetReadThrough(NewReadThrough(rem, "memremote", a.node, 2, zerolog.Nop()))
		m := remoteOnlyObject(t, a, "mp", mp, []int64{BlockSize + 1, 3*BlockSize - 5, int64(len(mp)) - 4*BlockSize + 4})
		for i := 1; i <= 2; i++ {
			got, err := readRemote(ctx, a, m, 0, m.Size)
			if err != nil || !bytes.Equal(got, mp) {
				t.Fatalf("read %d: %v", i, err)
			}
			cur, _ := a.node.Object("b", "mp")
			if want := i < 2; cur.RemoteOnly != want {
				t.Fatalf("after read %d of policy 2: remote-only %v, want %v", i, cur.RemoteOnly, want)
			}
			if i == 2 {
				if len(cur.Parts) != 3 || cur.Parts[0].Blob == "" {
					t.Fatalf("cached parts %+v", cur.Parts)
				}
				if got := a.readObject(t, "mp", 0, m.Size); !bytes.Equal(got, mp) {
					t.Fatal("the cached object reads back different bytes")
				}
			}
		}
	})
	t.Run("remote down", func(t *testing.T) {
		a.rt.Load().group = newBlockGroup()
		rem.mu.Lock()
		rem.down = true
		rem.mu.Unlock()
		if _, err := a.OpenRemote(ctx, o, 0, 10); !errors.Is(err, ErrRemoteUnavailable) {
			t.Fatalf("remote down: %v, want ErrRemoteUnavailable", err)
		}
	})
}

// TestReadThroughBudget: a whole read of a large object fetches spans of
// blocks (far fewer GETs than blocks), and 16 whole reads at once of
// different objects hold at most BlockBudget blocks plus, for each open read,
// the one block it needs next (which always gets in; the first reads also
// fetch ahead before the others open): 26-34 blocks were seen, every read
// byte-identical.
func TestReadThroughBudget(t *testing.T) {
	ctx := context.Background()
	a := openArchive(t, t.TempDir())
	rem := &memRemote{objects: map[string][]byte{}, etag: "remote-etag", delay: time.Millisecond}
	rt := NewReadThrough(rem, "mem", a.node, CacheNever, zerolog.Nop())
	a.SetReadThrough(rt)
	const readers = 16
	var objs []queue.Object
	var contents [][]byte
	for i := range readers {
		content := bytes.Repeat([]byte{byte('a' + i)}, 40*BlockSize+17)
		content[i] = '!'
		key := fmt.Sprintf("big%d", i)
		rem.objects["b/"+key] = content
		objs = append(objs, remoteOnlyObject(t, a, key, content, nil))
		contents = append(contents, content)
	}

	if got, err := readRemote(ctx, a, objs[0], 0, objs[0].Size); err != nil || !bytes.Equal(got, contents[0]) {
		t.Fatalf("whole read: %v, %d bytes", err, len(got))
	}
	if gets, blocks := rem.gets.Load(), int64(41); gets > blocks/4 {
		t.Errorf("a whole read of %d blocks made %d remote GETs, want spans of blocks (at most %d GETs)", blocks, gets, blocks/4)
	}

	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			rt.group.mu.Lock()
			n := int64(len(rt.group.fetches))
			rt.group.mu.Unlock()
			if n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := a.OpenRemote(ctx, objs[i], 0, objs[i].Size)
			if err != nil {
				t.Errorf("open %s: %v", objs[i].Key, err)
				return
			}
			defer rc.Close()
			h := sha256.New()
			buf := make([]byte, 64<<10)
			if _, err := io.CopyBuffer(h, rc, buf); err != nil || hex.EncodeToString(h.Sum(nil)) != objs[i].SHA256 {
				t.Errorf("whole read of %s: %v, SHA-256 %x", objs[i].Key, err, h.Sum(nil))
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	if p := peak.Load(); p > BlockBudget+readers {
		t.Errorf("16 whole reads held %d blocks at once, want at most %d (the budget) + %d (one per read)", p, BlockBudget, readers)
	}
	t.Logf("peak blocks held: %d", peak.Load())
}

// TestRemoteCopyMatches: a remote copy is taken for the version the index
// recorded by size and journaled ETag, or, when the ETag differs (a
// server-side copy), by the SHA-256 its metadata records; never by a size
// alone.
func TestRemoteCopyMatches(t *testing.T) {
	o := queue.Object{Size: 10, SHA256: "aa", Replica: queue.Replica{ETag: "e1"}}
	for _, c := range []struct {
		copy RemoteCopy
		want bool
	}{
		{RemoteCopy{ETag: "e1", Size: 10}, true},
		{RemoteCopy{ETag: `"e1"`, Size: 10}, true},
		{RemoteCopy{ETag: "e1", Size: 11}, false},
		{RemoteCopy{ETag: "e2", Size: 10}, false},
		{RemoteCopy{ETag: "e2", Size: 10, SHA256: "aa"}, true},
		{RemoteCopy{ETag: "e2", Size: 10, SHA256: "bb"}, false},
		{RemoteCopy{ETag: "e2", Size: 11, SHA256: "aa"}, false},
		{RemoteCopy{Size: 10}, true}, // a remote that reports no ETag: the bytes' check decides
	} {
		if got := c.copy.Matches(o); got != c.want {
			t.Errorf("%+v.Matches = %v, want %v", c.copy, got, c.want)
		}
	}
}
