package gateway

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/users"
)

// TestPostObjectQuota: a browser form upload counts against its bucket
// owner's quota as a PUT does. A form declares no size, so the file is
// judged once received: over the quota, the answer is the PUT's 403
// QuotaExceeded with the same message, and nothing is stored.
func TestPostObjectQuota(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	cred, err := g.dir.AddUser(ctx, "alice", authz.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	alice := g.clientAs(cred.AccessKey, cred.SecretKey)
	mustBucket(t, alice, "forms")
	if err := g.dir.SetQuota(ctx, "alice", 10<<10); err != nil {
		t.Fatal(err)
	}
	form := func(key string, file []byte) (int, []byte) {
		status, _, body := g.post(t, "forms", postUpload{accessKey: cred.AccessKey, secret: cred.SecretKey,
			fields: [][2]string{{"key", key}}, conditions: []any{[]any{"starts-with", "$key", ""}}, file: file})
		return status, body
	}
	first := content(1, 6<<10)
	if status, body := form("first", first); status >= 300 {
		t.Fatalf("a POST within the quota: %d %s", status, body)
	}
	if got, _ := getBytes(t, alice, &s3.GetObjectInput{Bucket: aws.String("forms"), Key: aws.String("first")}); !bytes.Equal(got, first) {
		t.Fatal("the POSTed file does not read back")
	}
	status, body := form("second", content(2, 6<<10))
	msg := regexp.MustCompile(`<Message>(.*)</Message>`).FindSubmatch(body)
	if status != 403 || !strings.Contains(string(body), "<Code>QuotaExceeded</Code>") || msg == nil {
		t.Fatalf("a POST over the quota: %d %s, want 403 QuotaExceeded", status, body)
	}
	want := fmt.Sprintf("The storage quota of alice (%d bytes) would be passed: %d bytes are stored, this write adds %d. Delete objects, or ask an admin to raise the quota.",
		10<<10, 6<<10, 6<<10)
	if string(msg[1]) != want {
		t.Fatalf("the POST's message:\n%s\nwant the PUT's:\n%s", msg[1], want)
	}
	// The PUT of the same bytes gets the same message.
	_, err = alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("forms"), Key: aws.String("second"), Body: bytes.NewReader(content(2, 6<<10))})
	if errCode(err) != "QuotaExceeded" || !strings.Contains(err.Error(), want) {
		t.Fatalf("the PUT over the quota: %v", err)
	}
	if _, err := alice.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("forms"), Key: aws.String("second")}); errCode(err) != "NotFound" {
		t.Fatalf("the refused POST stored an object: %v", err)
	}
	if status, body := form("third", content(3, 3<<10)); status >= 300 {
		t.Fatalf("a POST that still fits: %d %s", status, body)
	}
}

// TestPostObjectWriteOnly: a write-only key's form may create an object but
// not replace one, and of concurrent forms to one new key exactly one is
// stored, the others answered AccessDenied.
func TestPostObjectWriteOnly(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	owner := g.addUser(t, "alice", authz.RoleUser)
	mustBucket(t, owner, "forms")
	wo, err := g.dir.AddKey(ctx, "alice", users.KeySpec{Access: string(authz.AccessWrite)})
	if err != nil {
		t.Fatal(err)
	}
	form := func(key string, file []byte) (int, []byte) {
		status, _, body := g.post(t, "forms", postUpload{accessKey: wo.AccessKey, secret: wo.SecretKey,
			fields: [][2]string{{"key", key}}, conditions: []any{[]any{"starts-with", "$key", ""}}, file: file})
		return status, body
	}
	put(t, owner, "forms", "taxes.pdf", []byte("the original"))
	if status, body := form("taxes.pdf", []byte("encrypted by ransomware")); status != 403 || !strings.Contains(string(body), "may not overwrite") {
		t.Fatalf("a write-only form over an object: %d %s", status, body)
	}
	if got, _ := getBytes(t, owner, &s3.GetObjectInput{Bucket: aws.String("forms"), Key: aws.String("taxes.pdf")}); string(got) != "the original" {
		t.Fatalf("the object now reads %q", got)
	}
	for round := range 4 {
		key := fmt.Sprintf("new-%d", round)
		res := race(raceBodies(round, 1000)[:16], func(_ int, body []byte) (string, error) {
			status, h, b := g.post(t, "forms", postUpload{accessKey: wo.AccessKey, secret: wo.SecretKey,
				fields: [][2]string{{"key", key}}, conditions: []any{[]any{"starts-with", "$key", ""}}, file: body})
			if status >= 300 {
				return "", &postError{status: status, body: string(b)}
			}
			return h.Get("ETag"), nil
		})
		for i := range res {
			if res[i].err != nil {
				res[i].code = res[i].err.(*postError).code()
			}
		}
		oneWinnerLosing(t, owner, "forms", key, res, "AccessDenied")
	}
}

// postError is a refused form upload, for race.
type postError struct {
	status int
	body   string
}

func (e *postError) Error() string { return fmt.Sprintf("%d %s", e.status, e.body) }

func (e *postError) code() string {
	if m := regexp.MustCompile(`<Code>(.*)</Code>`).FindStringSubmatch(e.body); m != nil {
		return m[1]
	}
	return ""
}
