package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
)

// heldRemote is a remote copy in memory whose every GET sends its first
// bytes at once and holds the rest back until release is called, as a slow
// link would (without timing); with fail set, the body ends with that error
// instead, mid-block.
type heldRemote struct {
	data    []byte
	first   int
	fail    error
	held    chan struct{}
	release func()
}

func newHeldRemote(t *testing.T, data []byte, first int) *heldRemote {
	h := &heldRemote{data: data, first: first, held: make(chan struct{})}
	h.release = sync.OnceFunc(func() { close(h.held) })
	t.Cleanup(h.release) // the fetches still running end
	return h
}

func (h *heldRemote) GetRange(ctx context.Context, o queue.Object, off, length int64) (io.ReadCloser, RemoteCopy, error) {
	body := &heldBody{h: h, rest: h.data[off : off+length], first: h.first}
	return io.NopCloser(body), RemoteCopy{ETag: "remote-etag", Size: int64(len(h.data))}, nil
}

type heldBody struct {
	h     *heldRemote
	rest  []byte
	first int // bytes still to send before holding back
}

func (b *heldBody) Read(p []byte) (int, error) {
	if b.first == 0 {
		if b.h.fail != nil {
			return 0, b.h.fail
		}
		<-b.h.held
	} else if len(p) > b.first {
		p = p[:b.first]
	}
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	b.first = max(0, b.first-n)
	return n, nil
}

// openHeld opens bytes [off, off+n) of o and reads what the reader hands
// out before the remote sends more than its first bytes: it fails the test
// if opening or that first read does not finish within 10 s.
func openHeld(t *testing.T, a *testArchive, o queue.Object, off, n int64, p []byte) (io.ReadCloser, int) {
	t.Helper()
	type opened struct {
		rc  io.ReadCloser
		n   int
		err error
	}
	done := make(chan opened, 1)
	go func() {
		rc, err := a.OpenRemote(context.Background(), o, off, n)
		if err != nil {
			done <- opened{err: err}
			return
		}
		got, err := rc.Read(p)
		done <- opened{rc, got, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("open and read [%d, +%d) while the remote holds back: %v", off, n, r.err)
		}
		return r.rc, r.n
	case <-time.After(10 * time.Second):
		t.Fatalf("no byte of [%d, +%d) within 10 s while the remote sent the first bytes of its block and held back the rest", off, n)
		return nil, 0
	}
}

// TestReadThroughStreamsBlocks: a reader gets the first bytes of a block as
// they arrive, while the remote still holds the rest of the block back, for
// a whole read and for a range; the rest then reads back byte-identical. The
// block holding a whole read's last bytes is still served only whole and
// checked; a remote that fails mid-block fails the read and caches nothing.
func TestReadThroughStreamsBlocks(t *testing.T) {
	const first = 64 << 10
	a := openArchive(t, t.TempDir())
	defer a.close(t)
	content := bytes.Repeat([]byte("streamed, not whole blocks. "), (3*BlockSize+777)/28)
	small := content[:BlockSize/2]

	for _, tc := range []struct {
		name   string
		off, n int64
	}{
		{"whole", 0, int64(len(content))},
		{"range", 100, 2 * BlockSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rem := newHeldRemote(t, content, first)
			a.SetReadThrough(NewReadThrough(rem, "held", a.node, CacheNever, zerolog.Nop()))
			o := remoteOnlyObject(t, a, "obj-"+tc.name, content, nil)
			p := make([]byte, BlockSize)
			rc, n := openHeld(t, a, o, tc.off, tc.n, p)
			defer rc.Close()
			if n == 0 || n > first || !bytes.Equal(p[:n], content[tc.off:tc.off+int64(n)]) {
				t.Fatalf("before the block is whole: read %d bytes (want 1 to %d of the range's first bytes)", n, first)
			}
			rem.release()
			rest, err := io.ReadAll(rc)
			if got := append(p[:n], rest...); err != nil || !bytes.Equal(got, content[tc.off:tc.off+tc.n]) {
				t.Fatalf("the whole range once released: %v, %d of %d bytes, equal %v", err, len(got), tc.n, bytes.Equal(got, content[tc.off:tc.off+tc.n]))
			}
		})
	}

	t.Run("a one-block whole read waits for its block", func(t *testing.T) {
		rem := newHeldRemote(t, small, first)
		a.SetReadThrough(NewReadThrough(rem, "held", a.node, CacheNever, zerolog.Nop()))
		o := remoteOnlyObject(t, a, "small", small, nil)
		opened := make(chan error, 1)
		go func() {
			got, err := readRemote(context.Background(), a, o, 0, o.Size)
			if err == nil && !bytes.Equal(got, small) {
				err = errors.New("wrong bytes")
			}
			opened <- err
		}()
		select {
		case err := <-opened:
			t.Fatalf("a whole read of one block returned before the block was whole: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		rem.release()
		select {
		case err := <-opened:
			if err != nil {
				t.Fatalf("once released: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no answer 10 s after the remote sent the block")
		}
	})

	t.Run("the remote fails mid-block", func(t *testing.T) {
		rem := newHeldRemote(t, content, first)
		rem.fail = errors.New("read tcp 127.0.0.1:9: connection reset by peer")
		a.SetReadThrough(NewReadThrough(rem, "held", a.node, CacheAlways, zerolog.Nop()))
		o := remoteOnlyObject(t, a, "fails", content, nil)
		got, err := readRemote(context.Background(), a, o, 0, o.Size)
		if !errors.Is(err, ErrRemoteUnavailable) || len(got) > first || !bytes.Equal(got, content[:len(got)]) {
			t.Fatalf("a whole read whose remote fails after %d bytes: %v after %d bytes; want ErrRemoteUnavailable after at most those bytes", first, err, len(got))
		}
		if cur, _ := a.node.Object("b", "fails"); !cur.RemoteOnly {
			t.Error("a read the remote cut short was cached")
		}
	})
}
