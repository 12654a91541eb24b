//go:build browser

package console_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithy "github.com/aws/smithy-go"
	"github.com/chromedp/chromedp"
)

// TestBrowser_ConsoleUsers drives the Users page in real chromium against
// the real daemon: a user is added (the secret shown once, with a copy
// button), a write-only key scoped to one prefix is added to them, and the
// AWS SDK shows that key doing exactly what its scope allows; the key is
// revoked in the page and the SDK is refused; the built-in admin's removal
// shows the daemon's 409 message; a quota, a disable and a rotation take
// effect on the S3 endpoint at once.
func TestBrowser_ConsoleUsers(t *testing.T) {
	shots := os.Getenv(EnvScreenshots)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "")
	pctx, cancel := context.WithTimeout(context.Background(), 3*browserWait)
	defer cancel()
	client := func(ak, sk string) *s3.Client {
		return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(d.s3), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
			})})
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}
	put := func(c *s3.Client, key, body string) error {
		_, err := c.PutObject(pctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: strings.NewReader(body)})
		return err
	}

	ctx := newBrowser(t)
	run(t, ctx, "open the console", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(d.console), chromedp.WaitVisible("#login-form"))
	run(t, ctx, "sign in",
		chromedp.SendKeys("#access-key", browserKey),
		chromedp.SendKeys("#secret", browserSecret),
		chromedp.Click(`#login-form button[type="submit"]`),
		chromedp.WaitVisible("#overview"))
	run(t, ctx, "open Users", chromedp.Click(`a[data-page="users"]`), chromedp.WaitVisible("#users"))
	waitText(t, ctx, `#us-list li[data-user="admin"]`, "built-in")

	// A new user: the secret is shown once, with its warning.
	run(t, ctx, "add alice", chromedp.SendKeys("#us-name", "alice"), chromedp.Click(`#us-add button[type="submit"]`))
	waitText(t, ctx, "#us-secret", "shown this once")
	aliceKey, aliceSecret := secretShown(t, ctx, false)
	waitText(t, ctx, `#us-list li[data-user="alice"]`, "1 key")
	run(t, ctx, "copy the secret", chromedp.Click("#us-secret-copy"))
	waitJS(t, ctx, `document.querySelector("#us-secret-copied").textContent !== ""`)
	var copied string
	run(t, ctx, "read the copy's answer", chromedp.Text("#us-secret-copied", &copied, chromedp.ByQuery))
	if !strings.Contains(copied, "Copied") && !strings.Contains(copied, "Selected") {
		t.Fatalf("the copy button said %q", copied)
	}
	screenshot(t, ctx, shots, "desktop-users-new-secret", 1280, 900)
	dismissSecret(t, ctx)
	alice := client(aliceKey, aliceSecret)
	if _, err := alice.CreateBucket(pctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatalf("alice's key from the page: %v", err)
	}
	for _, k := range []string{"laptop/old.txt", "family/private.txt"} {
		if err := put(alice, k, "alice's "+k); err != nil {
			t.Fatal(err)
		}
	}

	// A write-only key limited to photos/laptop/.
	waitText(t, ctx, "#us-keys-title", "Keys of alice")
	run(t, ctx, "a scoped write-only key",
		chromedp.SetValue("#us-key-access", "write", chromedp.ByQuery),
		chromedp.SendKeys("#us-key-scopes", "photos/laptop/"),
		chromedp.Click(`#us-key-add button[type="submit"]`))
	scopedKey, scopedSecret := secretShown(t, ctx, true)
	waitText(t, ctx, `#us-key-list li[data-key="`+scopedKey+`"]`, "only photos/laptop/")
	screenshot(t, ctx, shots, "desktop-users", 1280, 900)
	scoped := client(scopedKey, scopedSecret)
	if err := put(scoped, "laptop/new.txt", "backup"); err != nil {
		t.Fatalf("the scoped key writing inside its scope: %v", err)
	}
	got, err := alice.GetObject(pctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("laptop/new.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != "backup" {
		t.Fatalf("laptop/new.txt reads %q", body)
	}
	for what, err := range map[string]error{
		"writing outside its scope": put(scoped, "family/new.txt", "x"),
		"overwriting":               put(scoped, "laptop/old.txt", "encrypted"),
		"deleting": func() error {
			_, err := scoped.DeleteObject(pctx, &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("laptop/old.txt")})
			return err
		}(),
		"reading outside its scope": func() error {
			_, err := scoped.GetObject(pctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("family/private.txt")})
			return err
		}(),
	} {
		if code(err) != "AccessDenied" {
			t.Errorf("the scoped write-only key %s: %v, want AccessDenied", what, err)
		}
	}

	// Its use shows once the list is read again; a key not used says so.
	run(t, ctx, "reload the keys", chromedp.Click(`#us-list li[data-user="alice"] .actions > button:nth-child(1)`))
	waitText(t, ctx, `#us-key-list li[data-key="`+scopedKey+`"]`, "last used")

	// Revoked in the page: refused at once.
	run(t, ctx, "revoke", chromedp.Click(`#us-key-list li[data-key="`+scopedKey+`"] button.danger`))
	waitText(t, ctx, `#us-key-list li[data-key="`+scopedKey+`"]`, "stops working at once")
	run(t, ctx, "confirm", chromedp.Click(`#us-key-list li[data-key="`+scopedKey+`"] .confirm button.danger`))
	waitJS(t, ctx, `!document.querySelector('#us-key-list li[data-key="`+scopedKey+`"]')`)
	if err := put(scoped, "laptop/after.txt", "x"); code(err) != "InvalidAccessKeyId" {
		t.Fatalf("the revoked key: %v, want InvalidAccessKeyId", err)
	}

	// The built-in admin cannot be removed: the daemon's 409 message.
	run(t, ctx, "remove admin", chromedp.Click(`#us-list li[data-user="admin"] button.danger`))
	run(t, ctx, "confirm", chromedp.Click(`#us-list li[data-user="admin"] .confirm button.danger`))
	waitText(t, ctx, "#us-error", "cannot be removed")

	// A quota: shown with the usage, and enforced.
	run(t, ctx, "set a quota", chromedp.SetValue(`#us-list li[data-user="alice"] .quota-form input`, "1KiB", chromedp.ByQuery),
		chromedp.Click(`#us-list li[data-user="alice"] .quota-form button`))
	waitText(t, ctx, `#us-list li[data-user="alice"]`, "of 1.0 KiB quota")
	if err := put(alice, "laptop/big.bin", strings.Repeat("x", 2048)); code(err) != "QuotaExceeded" {
		t.Fatalf("a PUT over the quota set in the page: %v", err)
	}

	// Disabled and enabled again.
	run(t, ctx, "disable alice", chromedp.Click(`#us-list li[data-user="alice"] .actions > button:nth-child(2)`))
	waitText(t, ctx, `#us-list li[data-user="alice"]`, "disabled")
	if _, err := alice.ListBuckets(pctx, &s3.ListBucketsInput{}); code(err) != "InvalidAccessKeyId" {
		t.Fatalf("a disabled user's key: %v", err)
	}
	run(t, ctx, "enable alice", chromedp.Click(`#us-list li[data-user="alice"] .actions > button:nth-child(2)`))
	waitJS(t, ctx, `!document.querySelector('#us-list li[data-user="alice"]').textContent.includes("disabled")`)
	if _, err := alice.ListBuckets(pctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("an enabled user's key: %v", err)
	}

	// Rotated: the new secret is shown once, the old key stops.
	run(t, ctx, "rotate", chromedp.Click(`#us-key-list li[data-key="`+aliceKey+`"] button.secondary`))
	run(t, ctx, "confirm", chromedp.Click(`#us-key-list li[data-key="`+aliceKey+`"] .confirm button.danger`))
	newKey, newSecret := secretShown(t, ctx, false)
	if newKey == aliceKey {
		t.Fatal("the rotation showed the old key")
	}
	if _, err := alice.ListBuckets(pctx, &s3.ListBucketsInput{}); code(err) != "InvalidAccessKeyId" {
		t.Fatalf("the rotated-out key: %v", err)
	}
	if _, err := client(newKey, newSecret).HeadBucket(pctx, &s3.HeadBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatalf("the rotated key: %v", err)
	}
	screenshot(t, ctx, shots, "phone-users", 390, 844)
	assertNoSideways(t, ctx, "Users")

	// Signing out leaves no secret in the page.
	run(t, ctx, "sign out", chromedp.EmulateViewport(1280, 900), chromedp.Click("#logout"), chromedp.WaitVisible("#login-form"))
	waitJS(t, ctx, `!document.body.textContent.includes(`+strconv.Quote(newSecret)+`)`)
}

// secretShown waits for the page's one-time panel and reads the access key
// and secret on it; dismiss then closes it, as its user would.
func secretShown(t *testing.T, ctx context.Context, dismiss bool) (ak, sk string) {
	t.Helper()
	waitJS(t, ctx, `!document.querySelector("#us-secret").hidden && document.querySelector("#us-secret-sk").textContent.length > 20`)
	run(t, ctx, "read the new secret", chromedp.Text("#us-secret-ak", &ak, chromedp.ByQuery), chromedp.Text("#us-secret-sk", &sk, chromedp.ByQuery))
	if dismiss {
		dismissSecret(t, ctx)
	}
	return ak, sk
}

func dismissSecret(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "dismiss the secret", chromedp.Click("#us-secret-done"))
	waitJS(t, ctx, `document.querySelector("#us-secret").hidden && document.querySelector("#us-secret-sk").textContent === ""`)
}
