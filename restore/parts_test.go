package restore

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRestore_PartsResumeAndRetry: an object whose parts are hashed as they
// arrive, continued after an earlier run fetched some of its ranges, with
// GETs that break halfway: the ranges on disk are not fetched again (they
// are read back and hashed in their turn), a broken GET is hashed once when
// fetched again, and the object is restored exactly. A range on disk that
// was damaged after it was recorded is caught by its part's SHA-256.
func TestRestore_PartsResumeAndRetry(t *testing.T) {
	for _, damaged := range []bool{false, true} {
		name := map[bool]string{false: "intact", true: "damaged"}[damaged]
		t.Run(name, func(t *testing.T) {
			rem := newFakeRemote()
			now := time.Now().UTC()
			data := make([]byte, 5<<20+17) // parts of 2 MiB, ranges of 1 MiB: ranges 0-5
			for i := range data {
				data[i] = byte(i * 3 / 11)
			}
			snap := putIndexed(t, rem, "docs/film", data, 2<<20, now)
			a := openTestArchive(t)
			rec := &recorder{}
			r := a.restorer(rem, rec, func(o *Options) { o.Ranges = 2 })

			// What an earlier run left: ranges 1 (the end of part 1) and 2
			// (the start of part 2) on disk and recorded.
			meta := snap
			p, err := openPartial(r.opts.StateDir, &meta, r.opts.RangeSize)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range []int{1, 2} {
				sp := p.ranges[i]
				off := p.offset(sp)
				b := slices.Clone(data[off : off+sp.length])
				if damaged && i == 2 {
					b[100] ^= 1
				}
				if err := os.WriteFile(p.partFile(sp.part), nil, 0o600); err != nil && i == 1 {
					t.Fatal(err)
				}
				f, err := os.OpenFile(p.partFile(sp.part), os.O_WRONLY, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt(b, sp.off)
				f.Close()
				if err := p.markDone(i); err != nil {
					t.Fatal(err)
				}
			}
			p.close()
			rem.breakGets = 2

			res, err := r.Run(context.Background())
			if damaged {
				if err == nil || res.Failed != 1 {
					t.Fatalf("restore: %v %+v, want 1 failed", err, res)
				}
				if reason := rec.out["docs/film"].Reason; !contains(reason, "part 2", "remote index") {
					t.Errorf("reason %q, want part 2 refused by the remote index", reason)
				}
				if n := countBlobs(t, a); n != 0 {
					t.Errorf("%d blobs of a damaged object were stored", n)
				}
				// The damaged partial object is gone: the next run fetches it all.
				rem.gets = nil
				if res, err := a.restorer(rem, rec, func(o *Options) { o.Ranges = 2 }).Run(context.Background()); err != nil || res.Restored != 1 {
					t.Fatalf("second restore: %v %+v, want 1 restored", err, res)
				}
				if len(rem.gets) != 6 {
					t.Errorf("the second run fetched ranges at %v, want all 6", rem.gets)
				}
				checkRestored(t, a, "docs/film", data, snap.ETag, 3)
				return
			}
			if err != nil || res.Restored != 1 {
				t.Fatalf("restore: %v %+v, want 1 restored", err, res)
			}
			for _, off := range rem.gets {
				if off == 1<<20 || off == 2<<20 {
					t.Errorf("fetched the range at %d again, which was on disk", off)
				}
			}
			if len(rem.gets) != 4+2 {
				t.Errorf("GETs at %v, want the 4 missing ranges and the 2 broken ones again", rem.gets)
			}
			checkRestored(t, a, "docs/film", data, snap.ETag, 3)
		})
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
