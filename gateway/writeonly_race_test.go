package gateway

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/users"
)

// TestWriteOnlyRace: a write-only key's PUTs, CopyObjects and
// CompleteMultipartUploads race to one new key. Each checks "no overwrite"
// before it writes, but only the journal decides: exactly one of them gets a
// 200, every other the write-only key's AccessDenied, and the stored bytes
// are the winner's. Before the copy's condition went into the journal, two
// copies that both found the key free both answered 200 and the later one
// replaced the earlier.
func TestWriteOnlyRace(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	owner := g.addUser(t, "alice", authz.RoleUser)
	wo := g.addKey(t, "alice", users.KeySpec{Access: string(authz.AccessWrite)})
	const b = "backups"
	mustBucket(t, owner, b)
	const writers = 24 // a third each: PUT, copy, completion
	for round := range 8 {
		bodies := raceBodies(round, 2000+round*300)[:writers]
		key := fmt.Sprintf("laptop/file-%d", round)
		// Sources of the copies and uploads of the completions, made before
		// the race so that only the final writes race.
		uploads := make([]string, writers)
		parts := make([]*string, writers)
		for i, body := range bodies {
			switch i % 3 {
			case 1:
				put(t, wo, b, fmt.Sprintf("src/%d/%d", round, i), body)
			case 2:
				up, err := wo.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				uploads[i] = aws.ToString(up.UploadId)
				part, err := wo.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: up.UploadId,
					PartNumber: aws.Int32(1), Body: bytes.NewReader(body)})
				if err != nil {
					t.Fatal(err)
				}
				parts[i] = part.ETag
			}
		}
		res := race(bodies, func(i int, body []byte) (string, error) {
			switch i % 3 {
			case 0:
				out, err := wo.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(body)})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.ETag), nil
			case 1:
				out, err := wo.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(key),
					CopySource: aws.String(fmt.Sprintf("%s/src/%d/%d", b, round, i))})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.CopyObjectResult.ETag), nil
			default:
				out, err := wo.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key),
					UploadId: aws.String(uploads[i]), MultipartUpload: &s3types.CompletedMultipartUpload{
						Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: parts[i]}}}})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.ETag), nil
			}
		})
		oneWinnerLosing(t, owner, b, key, res, "AccessDenied")
	}
}
