package gateway

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/store"
)

// raceWriters is how many clients race for one key, raceRounds how often.
const (
	raceWriters = 50
	raceRounds  = 20
)

// raceResult is what one of the racing writers got.
type raceResult struct {
	body []byte
	etag string
	code string // "" for a 200
	err  error
}

// race runs raceWriters concurrent calls of write (given the writer's body) and
// returns their results.
func race(bodies [][]byte, write func(i int, body []byte) (etag string, err error)) []raceResult {
	res := make([]raceResult, len(bodies))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			etag, err := write(i, b)
			res[i] = raceResult{body: b, etag: etag, code: errCode(err), err: err}
		}()
	}
	start.Done()
	wg.Wait()
	return res
}

// oneWinner checks that exactly one writer got a 200, that every other got 412
// PreconditionFailed, and that the stored object is the winner's body; it
// returns the winner.
func oneWinner(t *testing.T, c *s3.Client, bucket, key string, res []raceResult) raceResult {
	t.Helper()
	return oneWinnerLosing(t, c, bucket, key, res, "PreconditionFailed")
}

// oneWinnerLosing is oneWinner whose losers get loserCode.
func oneWinnerLosing(t *testing.T, c *s3.Client, bucket, key string, res []raceResult, loserCode string) raceResult {
	t.Helper()
	var winners []raceResult
	for _, r := range res {
		switch {
		case r.err == nil:
			winners = append(winners, r)
		case r.code != loserCode:
			t.Fatalf("a losing conditional write got %v (code %q), want %s", r.err, r.code, loserCode)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d conditional writes got 200, want exactly 1", len(winners), len(res))
	}
	got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if !bytes.Equal(got, winners[0].body) {
		t.Fatalf("stored body (%d bytes) is not the winner's (%d bytes): a 200 was overwritten", len(got), len(winners[0].body))
	}
	if aws.ToString(out.ETag) != winners[0].etag {
		t.Fatalf("stored ETag %s, winner was told %s", aws.ToString(out.ETag), winners[0].etag)
	}
	return winners[0]
}

func raceBodies(round, size int) [][]byte {
	bodies := make([][]byte, raceWriters)
	for i := range bodies {
		bodies[i] = content(round*raceWriters+i, size)
	}
	return bodies
}

// TestConditionalPutRace: 50 concurrent PUTs with If-None-Match: * to one new
// key, 20 times: exactly one gets 200 and its body is the one stored; then 50
// concurrent PUTs with If-Match naming the current ETag: again exactly one
// winner per round. Small bodies take the inline path (staged, journaled with
// their bytes), larger ones the streamed one. The losers' bytes are collected.
func TestConditionalPutRace(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "race")
	size := func(round int) int {
		if round%2 == 0 {
			return 3000 // inline
		}
		return DefaultInlineMax + 5000 // streamed
	}
	var losers [][]byte
	keep := func(res []raceResult, winner raceResult) {
		for _, r := range res {
			if !bytes.Equal(r.body, winner.body) {
				losers = append(losers, r.body)
			}
		}
	}
	for round := range raceRounds {
		key := fmt.Sprintf("new-%d", round)
		res := race(raceBodies(round, size(round)), func(_ int, body []byte) (string, error) {
			out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String(key),
				Body: bytes.NewReader(body), IfNoneMatch: aws.String("*")})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.ETag), nil
		})
		keep(res, oneWinner(t, c, "race", key, res))
	}

	etag := aws.ToString(put(t, c, "race", "existing", []byte("v0")).ETag)
	for round := range raceRounds {
		res := race(raceBodies(raceRounds+round, size(round)), func(_ int, body []byte) (string, error) {
			out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("existing"),
				Body: bytes.NewReader(body), IfMatch: aws.String(etag)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.ETag), nil
		})
		w := oneWinner(t, c, "race", "existing", res)
		keep(res, w)
		etag = w.etag
	}

	// Nothing references a loser's bytes: a collection removes them.
	if err := g.store.SyncStaged(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := g.store.Collect(ctx, func(ctx context.Context, mark func(store.Digest)) error {
		return g.node.MarkReferenced(ctx, func(blob string) {
			d, err := store.ParseDigest(blob)
			if err != nil {
				t.Errorf("index holds blob %q: %v", blob, err)
			}
			mark(d)
		})
	}); err != nil {
		t.Fatal(err)
	}
	for _, b := range losers {
		blob := sha256Hex(b)
		if _, err := os.Stat(filepath.Join(g.dir, "store", "blobs", blob[:2], blob[2:4], blob)); !os.IsNotExist(err) {
			t.Fatalf("a losing PUT's blob %s is still stored after a collection (stat: %v)", blob, err)
		}
	}
}

// TestConditionalCompleteRace: concurrent CompleteMultipartUpload calls of
// different uploads to one new key with If-None-Match: *, and then to that key
// with If-Match naming its ETag: exactly one wins each time, and a loser's
// upload is left as it was (it can still be aborted).
func TestConditionalCompleteRace(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "mprace")
	const n = 10
	for _, cond := range []string{"if-none-match", "if-match"} {
		var etag string
		if cond == "if-match" {
			etag = aws.ToString(put(t, c, "mprace", "k2", []byte("v0")).ETag)
		}
		key := map[string]string{"if-none-match": "k1", "if-match": "k2"}[cond]
		ids := make([]*string, n)
		parts := make([][]types.CompletedPart, n)
		bodies := make([][]byte, n)
		for i := range n {
			cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mprace"), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = cr.UploadId
			for p := range 2 {
				b := content(100*i+p, 1000+i)
				bodies[i] = append(bodies[i], b...)
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mprace"), Key: aws.String(key),
					UploadId: cr.UploadId, PartNumber: aws.Int32(int32(p + 1)), Body: bytes.NewReader(b)})
				if err != nil {
					t.Fatal(err)
				}
				parts[i] = append(parts[i], types.CompletedPart{PartNumber: aws.Int32(int32(p + 1)), ETag: up.ETag})
			}
		}
		res := race(bodies, func(i int, _ []byte) (string, error) {
			in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("mprace"), Key: aws.String(key), UploadId: ids[i],
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts[i]}}
			if cond == "if-match" {
				in.IfMatch = aws.String(etag)
			} else {
				in.IfNoneMatch = aws.String("*")
			}
			out, err := c.CompleteMultipartUpload(ctx, in)
			if err != nil {
				return "", err
			}
			return aws.ToString(out.ETag), nil
		})
		w := oneWinner(t, c, "mprace", key, res)
		for i, r := range res {
			if bytes.Equal(r.body, w.body) {
				continue
			}
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mprace"),
				Key: aws.String(key), UploadId: ids[i]}); err != nil {
				t.Fatalf("%s: abort a losing upload: %v", cond, err)
			}
		}
	}
}
