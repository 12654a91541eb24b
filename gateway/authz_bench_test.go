package gateway

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/authz"
)

// BenchmarkAuthorizedPut compares 4 KiB PUTs, 16 clients at once, through
// the real server and journal: "single-key" without users (every key an
// admin, no decision) and "users" with 100 users, 1,000 buckets and a
// policy of 100 principals on the target bucket, written by a user the
// policy grants s3:PutObject, so that every PUT evaluates it. Both servers
// run side by side and take turns (10 rounds of 1,000 PUTs, in ABBA
// order), so that the machine's noise hits both alike; it reports each one's median ops/s and
// their ratio:
//
//	go test -run '^$' -bench BenchmarkAuthorizedPut -benchtime 1x ./gateway
func BenchmarkAuthorizedPut(b *testing.B) {
	const rounds, perRound, clients = 10, 1000, 16
	body := bytes.Repeat([]byte("x"), 4<<10)
	// Both journals hold 1,000 buckets, so that only the users differ.
	single := newGateway(b)
	for i := range 1000 {
		name := fmt.Sprintf("bucket%04d", i)
		if i == 0 {
			name = "target"
		}
		if err := single.node.CreateBucket(ctxT(b), name, time.Now()); err != nil {
			b.Fatal(err)
		}
	}

	g := newUsersGateway(b)
	ctx := ctxT(b)
	var writer *s3.Client
	principals := make([]string, 100)
	for i := range principals {
		principals[i] = fmt.Sprintf("user%03d", i)
		c := g.addUser(b, principals[i], authz.RoleUser)
		if i == 50 {
			writer = c
		}
	}
	for i := range 1000 {
		name := fmt.Sprintf("bucket%04d", i)
		if i == 0 {
			name = "target"
		}
		if err := g.node.CreateOwnedBucket(ctx, name, principals[i%100], time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::target/locked/*"},
		{"Effect":"Allow","Principal":{"AWS":["` + strings.Join(principals, `","`) + `"]},"Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":"arn:aws:s3:::target/*"}]}`
	if err := g.dir.SetPolicy(ctx, "target", policy); err != nil {
		b.Fatal(err)
	}

	var seq atomic.Int64
	round := func(c *s3.Client) float64 {
		start := time.Now()
		var wg sync.WaitGroup
		var left atomic.Int64
		left.Store(perRound)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for left.Add(-1) >= 0 {
					key := fmt.Sprintf("k%d", seq.Add(1))
					if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("target"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return perRound / time.Since(start).Seconds()
	}
	round(single.client()) // warm both up
	round(writer)
	var a, u []float64
	b.ResetTimer()
	for i := range rounds {
		// ABBA: whichever goes second in a pair is not always the same one.
		if i%2 == 0 {
			a = append(a, round(single.client()))
			u = append(u, round(writer))
		} else {
			u = append(u, round(writer))
			a = append(a, round(single.client()))
		}
	}
	slices.Sort(a)
	slices.Sort(u)
	ma, mu := (a[rounds/2-1]+a[rounds/2])/2, (u[rounds/2-1]+u[rounds/2])/2
	b.ReportMetric(ma, "single-key-puts/s")
	b.ReportMetric(mu, "users-puts/s")
	b.ReportMetric(mu/ma, "ratio")
	b.Logf("4 KiB PUT, %d clients, median of %d rounds of %d: single key %.0f/s, 100 users + 1,000 buckets + policy %.0f/s, ratio %.3f",
		clients, rounds, perRound, ma, mu, mu/ma)
}
