//go:build browser

package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/ipas/ipas/admin"
)

// TestBrowser_ConsolePages drives the Browse, Remote, Drop folders and Log
// pages in real chromium: a bucket is created, a 20 MiB file uploaded from the
// browser reads back through S3 byte-identical and downloads through the
// browser byte-identical, an object is deleted after confirmation, the remote
// is tested, a reconcile and a scrub run, a refused drop-folder directory is
// shown with its reason, and the log follows the daemon live. Each page is
// captured at desktop and phone sizes.
func TestBrowser_ConsolePages(t *testing.T) {
	shots := os.Getenv(EnvScreenshots)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	drop := t.TempDir()
	if err := os.Mkdir(filepath.Join(drop, "Holiday Photos"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "drop:\n  folders:\n    - path: "+drop+"\n")
	api := &admin.Client{Endpoint: d.s3, Region: "us-east-1", AccessKey: browserKey, SecretKey: browserSecret}
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(d.s3), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: browserKey, SecretAccessKey: browserSecret}, nil
		})})
	pctx, cancel := context.WithTimeout(context.Background(), 3*browserWait)
	defer cancel()
	ctx := newBrowser(t)
	downloads := t.TempDir()
	run(t, ctx, "open the console", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(d.console), chromedp.WaitVisible("#login-form"),
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(downloads))
	run(t, ctx, "sign in",
		chromedp.SendKeys("#access-key", browserKey),
		chromedp.SendKeys("#secret", browserSecret),
		chromedp.Click(`#login-form button[type="submit"]`),
		chromedp.WaitVisible("#overview"))

	// Browse: a new bucket, then a 20 MiB upload from the browser.
	run(t, ctx, "open Browse", chromedp.Click(`a[data-page="browse"]`), chromedp.WaitVisible("#browse"))
	waitText(t, ctx, "#br-empty", "Nothing here yet")
	run(t, ctx, "create a bucket", chromedp.SendKeys("#br-bucket-name", "photos"), chromedp.Click(`#br-new-bucket button[type="submit"]`))
	waitJS(t, ctx, `document.querySelector("#br-bucket").value === "photos"`)
	if _, err := s3c.HeadBucket(pctx, &s3.HeadBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatalf("the bucket created in the browser is not an S3 bucket: %v", err)
	}
	run(t, ctx, "an invalid bucket name", chromedp.SendKeys("#br-bucket-name", "Bad_Name"), chromedp.Click(`#br-new-bucket button[type="submit"]`))
	waitText(t, ctx, "#br-error", "Bad_Name")
	run(t, ctx, "clear", chromedp.Evaluate(`document.querySelector("#br-bucket-name").value = ""`, nil))

	big := make([]byte, 20<<20)
	rand.Read(big)
	file := filepath.Join(t.TempDir(), "holiday.mov")
	if err := os.WriteFile(file, big, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "upload 20 MiB", chromedp.SetUploadFiles("#br-files", []string{file}, chromedp.ByQuery), chromedp.Click("#br-upload"))
	waitText(t, ctx, "#br-uploads", "stored, 20 MiB")
	got, err := s3c.GetObject(pctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("holiday.mov")})
	if err != nil {
		t.Fatalf("the uploaded file through S3: %v", err)
	}
	back, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || !bytes.Equal(back, big) {
		t.Fatalf("the file uploaded from the browser reads back through S3 as %d bytes (identical %v, %v)", len(back), bytes.Equal(back, big), err)
	}
	waitText(t, ctx, "#br-list", "holiday.mov")
	// Not live: the listing is reloaded from its breadcrumb until the copy is offsite.
	for deadline := time.Now().Add(browserWait); ; {
		var text string
		run(t, ctx, "reload the listing", chromedp.Click("#br-path button"), chromedp.Sleep(300*time.Millisecond), chromedp.Text(`#br-list li[data-key="holiday.mov"]`, &text))
		if strings.Contains(text, "offsite") && !strings.Contains(text, "waiting") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("holiday.mov never showed as offsite: %q", text)
		}
	}

	// Download through the browser.
	run(t, ctx, "download", chromedp.Click(`#br-list li[data-key="holiday.mov"] a`))
	dl := filepath.Join(downloads, "holiday.mov")
	for deadline := time.Now().Add(browserWait); ; time.Sleep(200 * time.Millisecond) {
		b, err := os.ReadFile(dl)
		if err == nil && len(b) == len(big) {
			if !bytes.Equal(b, big) {
				t.Fatal("the file downloaded through the browser differs from the one uploaded")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no download of holiday.mov in %s (%v, %d bytes)", downloads, err, len(b))
		}
	}

	// A folder, and a delete with confirmation.
	for _, k := range []string{"2026/a.txt", "2026/b.txt"} {
		if _, err := s3c.PutObject(pctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(k), Body: strings.NewReader("text of " + k)}); err != nil {
			t.Fatal(err)
		}
	}
	run(t, ctx, "reload", chromedp.Click("#br-path button"))
	waitText(t, ctx, "#br-list", "2026/")
	screenshot(t, ctx, shots, "desktop-browse", 1280, 800)
	run(t, ctx, "open 2026/", chromedp.Click("#br-list li.folder button"))
	waitText(t, ctx, "#br-list", "b.txt")
	waitText(t, ctx, "#br-path", "2026")
	run(t, ctx, "delete a.txt", chromedp.Click(`#br-list li[data-key="2026/a.txt"] button.danger`))
	waitText(t, ctx, `#br-list li[data-key="2026/a.txt"]`, "Delete 2026/a.txt?")
	screenshot(t, ctx, shots, "phone-browse-confirm", 390, 844)
	assertNoSideways(t, ctx, "Browse")
	run(t, ctx, "confirm", chromedp.Click(`#br-list li[data-key="2026/a.txt"] .confirm button.danger`))
	waitJS(t, ctx, `!document.querySelector('#br-list li[data-key="2026/a.txt"]')`)
	if _, err := s3c.HeadObject(pctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("2026/a.txt")}); err == nil {
		t.Fatal("photos/2026/a.txt is still there after its delete in the browser")
	}
	run(t, ctx, "back to the top", chromedp.Click("#br-path button"))
	waitText(t, ctx, "#br-list", "holiday.mov")
	screenshot(t, ctx, shots, "phone-browse", 390, 844)
	run(t, ctx, "desktop", chromedp.EmulateViewport(1280, 800))

	// Remote: the test, a reconcile and a scrub.
	run(t, ctx, "open Remote", chromedp.Click(`a[data-page="remote"]`), chromedp.WaitVisible("#remote"))
	waitText(t, ctx, "#rm-name", "NOT offsite")
	run(t, ctx, "test the remote", chromedp.Click("#rm-test"))
	waitText(t, ctx, "#rm-verdict", "OK")
	waitText(t, ctx, "#rm-steps", "multipart upload")
	// The passes at start-up are done before the requested ones are shown.
	finished := func(id string) string {
		return `document.querySelector("` + id + `").textContent.startsWith("finished") && document.querySelector("` + id + `").textContent.includes("(request)")`
	}
	run(t, ctx, "reconcile", chromedp.Click("#rc-start"))
	waitJS(t, ctx, finished("#rc-detail"))
	waitText(t, ctx, "#rc-summary", "checked")
	run(t, ctx, "scrub", chromedp.Click("#sc-start"))
	waitJS(t, ctx, finished("#sc-detail"))
	waitText(t, ctx, "#sc-summary", "blobs")
	st, err := api.Status(pctx)
	if err != nil || st.Reconcile == nil || st.Reconcile.Last == nil || st.Reconcile.Last.Trigger != "request" || st.Scrub == nil || st.Scrub.Last == nil || st.Scrub.Last.Trigger != "request" {
		t.Fatalf("after the buttons the admin API reports reconcile %+v, scrub %+v (%v)", st.Reconcile, st.Scrub, err)
	}
	screenshot(t, ctx, shots, "desktop-remote", 1280, 800)
	screenshot(t, ctx, shots, "phone-remote", 390, 844)
	assertNoSideways(t, ctx, "Remote")
	run(t, ctx, "desktop", chromedp.EmulateViewport(1280, 800))

	// Drop folders: the refused directory with its reason.
	run(t, ctx, "open Drop folders", chromedp.Click(`a[data-page="drop"]`), chromedp.WaitVisible("#drop"))
	waitText(t, ctx, "#dr-folders", drop)
	waitText(t, ctx, "#dr-skipped", "Holiday Photos")
	waitText(t, ctx, "#dr-skipped", "holiday-photos")
	screenshot(t, ctx, shots, "desktop-drop", 1280, 800)
	screenshot(t, ctx, shots, "phone-drop", 390, 844)
	assertNoSideways(t, ctx, "Drop folders")
	run(t, ctx, "desktop", chromedp.EmulateViewport(1280, 800))

	// Log: the daemon's lines, live, by level.
	run(t, ctx, "open Log", chromedp.Click(`a[data-page="log"]`), chromedp.WaitVisible("#log"))
	waitText(t, ctx, "#lg-lines", "object deleted by request")
	if err := api.Pause(pctx); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#lg-lines", "replication paused by request") // no reload
	if err := api.Resume(pctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, shots, "desktop-log", 1280, 800)
	screenshot(t, ctx, shots, "phone-log", 390, 844)
	assertNoSideways(t, ctx, "Log")
	run(t, ctx, "errors only", chromedp.SetValue("#lg-level", "error", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("#lg-level").dispatchEvent(new Event("change"))`, nil))
	waitJS(t, ctx, `!document.querySelector("#lg-lines").textContent.includes("paused by request")`)
	var infos int
	run(t, ctx, "count", chromedp.Evaluate(`document.querySelectorAll("#lg-lines li.lv-info").length`, &infos))
	if infos != 0 {
		t.Fatalf("%d info lines at level error", infos)
	}
}

// assertNoSideways fails when the page scrolls sideways at the viewport's width.
func assertNoSideways(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	var overflow bool
	run(t, ctx, "measure", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow))
	if overflow {
		t.Errorf("the %s page scrolls sideways", page)
	}
}
