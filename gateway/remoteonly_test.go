package gateway

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
)

// makeRemoteOnly journals the current version of bucket/key again, as a
// restore with --metadata-only does: replicated, without its bytes.
func makeRemoteOnly(t *testing.T, g *testGateway, bucket, key string) {
	t.Helper()
	o, err := g.node.Object(bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, p := range o.Parts {
		sizes = append(sizes, p.Size)
	}
	o.VersionID = queue.NewVersionID(o.ModTime)
	o.Replica = queue.Replica{ETag: o.ETag, Size: o.Size}
	if ok, err := g.node.PutRestoredObject(ctxT(t), archive.RemoteOnly(o, sizes)); err != nil || !ok {
		t.Fatalf("journal %s/%s as remote-only: %v %v", bucket, key, ok, err)
	}
}

// TestRemoteOnlyObject: an object whose bytes are on the remote only is
// listed and HEADed as it was, with storage class GLACIER; a GET (whole,
// ranged or by part) or a copy of it is 403 InvalidObjectState, whose
// message says how to get the bytes back; local objects are unaffected.
func TestRemoteOnlyObject(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "pics")
	put(t, c, "pics", "local.jpg", content(1, 100))
	single := put(t, c, "pics", "beach 2026.jpg", content(2, 3000), func(in *s3.PutObjectInput) {
		in.ContentType, in.Metadata = aws.String("image/jpeg"), map[string]string{"camera": "pi"}
	})
	multi := completeParts(t, c, "pics", "video.mp4", content(3, 10), content(4, 20))
	makeRemoteOnly(t, g, "pics", "beach 2026.jpg")
	makeRemoteOnly(t, g, "pics", "video.mp4")

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pics"), Key: aws.String("beach 2026.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	if head.StorageClass != types.StorageClassGlacier || aws.ToInt64(head.ContentLength) != 3000 ||
		aws.ToString(head.ETag) != aws.ToString(single.ETag) || aws.ToString(head.ContentType) != "image/jpeg" ||
		head.Metadata["camera"] != "pi" || head.ReplicationStatus != types.ReplicationStatusCompleted {
		t.Errorf("HEAD of a remote-only object: class %q, %d bytes, ETag %s, %s, %v, replication %q",
			head.StorageClass, aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), aws.ToString(head.ContentType), head.Metadata, head.ReplicationStatus)
	}
	part, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pics"), Key: aws.String("video.mp4"), PartNumber: aws.Int32(2)})
	if err != nil || aws.ToInt64(part.ContentLength) != 20 || aws.ToInt32(part.PartsCount) != 2 || aws.ToString(part.ETag) != aws.ToString(multi.ETag) {
		t.Errorf("HEAD part 2 of a remote-only multipart object: %v %+v", err, part)
	}
	if local, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pics"), Key: aws.String("local.jpg")}); err != nil || local.StorageClass != "" && local.StorageClass != types.StorageClassStandard {
		t.Errorf("HEAD of a local object: %v class %q", err, local.StorageClass)
	}

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pics")})
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]types.ObjectStorageClass{}
	for _, o := range list.Contents {
		classes[aws.ToString(o.Key)] = o.StorageClass
	}
	if classes["beach 2026.jpg"] != types.ObjectStorageClassGlacier || classes["video.mp4"] != types.ObjectStorageClassGlacier ||
		classes["local.jpg"] != types.ObjectStorageClassStandard {
		t.Errorf("listing: %v", classes)
	}
	attrs, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("pics"), Key: aws.String("video.mp4"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}})
	if err != nil || attrs.StorageClass != types.StorageClassGlacier || aws.ToInt64(attrs.ObjectSize) != 30 {
		t.Errorf("attributes: %v %+v", err, attrs)
	}

	for name, in := range map[string]*s3.GetObjectInput{
		"whole":  {Bucket: aws.String("pics"), Key: aws.String("beach 2026.jpg")},
		"ranged": {Bucket: aws.String("pics"), Key: aws.String("beach 2026.jpg"), Range: aws.String("bytes=0-9")},
		"part":   {Bucket: aws.String("pics"), Key: aws.String("video.mp4"), PartNumber: aws.Int32(1)},
	} {
		_, err := c.GetObject(ctx, in)
		wantCode(t, err, "InvalidObjectState")
		if !strings.Contains(err.Error(), "StatusCode: 403") || !strings.Contains(err.Error(), "on the remote only") {
			t.Errorf("GET %s: %v", name, err)
		}
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("pics"), Key: aws.String("copy"), CopySource: aws.String("pics/video.mp4")})
	wantCode(t, err, "InvalidObjectState")

	// The error document as S3 writes it for an archived object: the
	// storage class, and a command that can be pasted.
	req, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pics"), Key: aws.String("beach 2026.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.httpClient().Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc struct{ Code, Message, StorageClass string }
	if err := xml.Unmarshal(body, &doc); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET: %d %s (%v)", resp.StatusCode, body, err)
	}
	if doc.Code != "InvalidObjectState" || doc.StorageClass != "GLACIER" ||
		!strings.Contains(doc.Message, "gateway restore --merge --bucket pics --prefix 'beach 2026.jpg'") || !strings.Contains(doc.Message, "does not read them through") {
		t.Errorf("error document: %+v", doc)
	}

	// Local objects read as before, and the bytes coming back make it readable.
	if got := getBody(t, c, "pics", "local.jpg"); string(got) != string(content(1, 100)) {
		t.Error("a local object next to remote-only ones does not read back")
	}
	o, _ := g.node.Object("pics", "beach 2026.jpg")
	blob, err := g.srv.objects.Put(ctx, strings.NewReader(string(content(2, 3000))))
	if err != nil {
		t.Fatal(err)
	}
	o.RemoteOnly, o.Blob = false, blob.Digest.String()
	o.Parts = nil
	if ok, err := g.node.PutRestoredObject(ctx, o); err != nil || !ok {
		t.Fatalf("journal the bytes: %v %v", ok, err)
	}
	g.srv.objects.Unpin(blob.Digest)
	if got := getBody(t, c, "pics", "beach 2026.jpg"); string(got) != string(content(2, 3000)) {
		t.Error("the object does not read back once its bytes are local")
	}
}

func getBody(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
