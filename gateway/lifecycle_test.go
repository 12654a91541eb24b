package gateway

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/authz"
)

// lifecycleRequest is a signed request to bucket's ?lifecycle, with a
// Content-MD5 of body unless md5 is "" (a value of "-" sends none).
func lifecycleRequest(t *testing.T, g *testGateway, method, bucket string, body []byte, md5 string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+"/"+bucket+"?lifecycle", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if md5 != "-" {
		req.Header.Set("Content-Md5", md5)
	}
	sum := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		req, sum, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func putLifecycle(t *testing.T, g *testGateway, bucket, body string) (int, string, []byte) {
	t.Helper()
	return rawDo(t, g, lifecycleRequest(t, g, http.MethodPut, bucket, []byte(body), md5Base64([]byte(body))))
}

const lifecycleNS = `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`

// TestLifecycleConfigurationRoundTrip: a configuration with every supported
// element is stored in the journal and served back exactly, in S3's
// canonical form; Delete removes it.
func TestLifecycleConfigurationRoundTrip(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "backup")
	status, code, _ := rawDo(t, g, lifecycleRequest(t, g, http.MethodGet, "backup", nil, "-"))
	if status != http.StatusNotFound || code != "NoSuchLifecycleConfiguration" {
		t.Fatalf("Get before any Put: %d %s", status, code)
	}
	sent := `<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule><ID>old versions</ID><Filter><Prefix>docs/</Prefix></Filter><Status>Enabled</Status>
    <NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>
  </Rule>
  <Rule><ID>markers</ID><Prefix></Prefix><Status>Enabled</Status>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
  </Rule>
  <Rule><Filter></Filter><Status>Disabled</Status>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>
  </Rule>
</LifecycleConfiguration>`
	if status, code, body := putLifecycle(t, g, "backup", sent); status != http.StatusOK {
		t.Fatalf("Put: %d %s %s", status, code, body)
	}
	want := lifecycleNS +
		`<Rule><ID>old versions</ID><Filter><Prefix>docs/</Prefix></Filter><Status>Enabled</Status>` +
		`<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>` +
		`<Rule><ID>markers</ID><Prefix></Prefix><Status>Enabled</Status>` +
		`<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>` +
		`<Rule><Filter></Filter><Status>Disabled</Status>` +
		`<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>` +
		`</LifecycleConfiguration>`
	g.restart() // the configuration is in the journal, not in memory
	c = g.client()
	status, _, got := rawDo(t, g, lifecycleRequest(t, g, http.MethodGet, "backup", nil, "-"))
	if status != http.StatusOK || string(bytes.TrimPrefix(got, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"))) != want {
		t.Fatalf("Get: %d\n%s\nwant\n%s", status, got, want)
	}
	// The SDK reads it back as it sent it.
	out, err := c.GetBucketLifecycleConfiguration(ctxT(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("backup")})
	if err != nil {
		t.Fatal(err)
	}
	r0 := out.Rules[0]
	if len(out.Rules) != 3 || aws.ToString(r0.ID) != "old versions" || aws.ToString(r0.Filter.Prefix) != "docs/" ||
		aws.ToInt32(r0.NoncurrentVersionExpiration.NoncurrentDays) != 30 ||
		aws.ToInt32(r0.NoncurrentVersionExpiration.NewerNoncurrentVersions) != 3 ||
		!aws.ToBool(out.Rules[1].Expiration.ExpiredObjectDeleteMarker) || out.Rules[2].Status != types.ExpirationStatusDisabled ||
		aws.ToInt32(out.Rules[2].AbortIncompleteMultipartUpload.DaysAfterInitiation) != 7 {
		t.Fatalf("GetBucketLifecycleConfiguration: %+v", out.Rules)
	}
	// The SDK's own Put (it sends a checksum, not a Content-MD5) replaces it.
	_, err = c.PutBucketLifecycleConfiguration(ctxT(t), &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("backup"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("uploads"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(2)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.GetBucketLifecycleConfiguration(ctxT(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("backup")})
	if err != nil || len(out.Rules) != 1 || aws.ToString(out.Rules[0].ID) != "uploads" {
		t.Fatalf("after the SDK's Put: %v %+v", err, out)
	}
	if _, err := c.DeleteBucketLifecycle(ctxT(t), &s3.DeleteBucketLifecycleInput{Bucket: aws.String("backup")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketLifecycleConfiguration(ctxT(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("backup")})
	wantCode(t, err, "NoSuchLifecycleConfiguration")
	_, err = c.GetBucketLifecycleConfiguration(ctxT(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("nope")})
	wantCode(t, err, "NoSuchBucket")
}

// lifecycleRules wraps rules in a configuration.
func lifecycleRules(rules ...string) string {
	return lifecycleNS + strings.Join(rules, "") + `</LifecycleConfiguration>`
}

// noncurrentRule is a valid rule with filter f (a Filter or Prefix element).
func noncurrentRule(id, f string) string {
	return `<Rule><ID>` + id + `</ID>` + f + `<Status>Enabled</Status>` +
		`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`
}

// TestPutBucketLifecycleRefuses: every element the gateway does not apply is
// refused with 501 NotImplemented naming it, and bad configurations with S3's
// codes; nothing refused is stored. S3's 1,000 rules are accepted.
func TestPutBucketLifecycleRefuses(t *testing.T) {
	g := newGateway(t)
	mustBucket(t, g.client(), "backup")
	rule := func(body string) string {
		return lifecycleRules(`<Rule><ID>r</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status>` + body + `</Rule>`)
	}
	withFilter := func(filter string) string {
		return lifecycleRules(`<Rule><ID>r</ID>` + filter + `<Status>Enabled</Status>` +
			`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`)
	}
	many := func(n int) string {
		rules := make([]string, n)
		for i := range rules {
			rules[i] = noncurrentRule(fmt.Sprint("rule-", i), `<Filter><Prefix>p`+fmt.Sprint(i)+`/</Prefix></Filter>`)
		}
		return lifecycleRules(rules...)
	}
	const nve = `<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`
	for _, tc := range []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"Transition", rule(`<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`), 501, "NotImplemented", "Transition"},
		{"NoncurrentVersionTransition", rule(nve + `<NoncurrentVersionTransition><NoncurrentDays>3</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`), 501, "NotImplemented", "NoncurrentVersionTransition"},
		{"Expiration Days", rule(`<Expiration><Days>30</Days></Expiration>`), 501, "NotImplemented", "Expiration/Days"},
		{"Expiration Date", rule(`<Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>`), 501, "NotImplemented", "Expiration/Date"},
		{"Filter Tag", withFilter(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>`), 501, "NotImplemented", "Filter/Tag"},
		{"Filter And", withFilter(`<Filter><And><Prefix>a</Prefix><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></And></Filter>`), 501, "NotImplemented", "Filter/And"},
		{"Filter ObjectSizeGreaterThan", withFilter(`<Filter><ObjectSizeGreaterThan>500</ObjectSizeGreaterThan></Filter>`), 501, "NotImplemented", "Filter/ObjectSizeGreaterThan"},
		{"Filter ObjectSizeLessThan", withFilter(`<Filter><ObjectSizeLessThan>500</ObjectSizeLessThan></Filter>`), 501, "NotImplemented", "Filter/ObjectSizeLessThan"},
		{"not XML", "rules", 400, "MalformedXML", ""},
		{"other root", `<CORSConfiguration></CORSConfiguration>`, 400, "MalformedXML", ""},
		{"no rules", lifecycleRules(), 400, "MalformedXML", ""},
		{"1,001 rules", many(1001), 400, "MalformedXML", ""},
		{"bad status", lifecycleRules(strings.Replace(noncurrentRule("r", `<Prefix></Prefix>`), "Enabled", "enabled", 1)), 400, "MalformedXML", ""},
		{"unknown element", rule(nve + `<Frobnicate/>`), 400, "MalformedXML", ""},
		{"Filter and Prefix", withFilter(`<Filter><Prefix>a</Prefix></Filter><Prefix>a</Prefix>`), 400, "MalformedXML", ""},
		{"no Filter nor Prefix", withFilter(``), 400, "MalformedXML", ""},
		{"two filters", withFilter(`<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>`), 400, "MalformedXML", ""},
		{"marker not a boolean", rule(`<Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>`), 400, "MalformedXML", ""},
		{"days not a number", rule(`<NoncurrentVersionExpiration><NoncurrentDays>ten</NoncurrentDays></NoncurrentVersionExpiration>`), 400, "MalformedXML", ""},
		{"long ID", lifecycleRules(noncurrentRule(strings.Repeat("i", 256), `<Prefix></Prefix>`)), 400, "InvalidArgument", "ID length should not exceed allowed limit of 255"},
		{"same ID twice", lifecycleRules(noncurrentRule("r", `<Prefix>a</Prefix>`), noncurrentRule("r", `<Prefix>b</Prefix>`)), 400, "InvalidArgument", "Rule ID must be unique"},
		{"NoncurrentDays 0", rule(`<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>`), 400, "InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
		{"NewerNoncurrentVersions 101", rule(`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), 400, "InvalidArgument", "NewerNoncurrentVersions"},
		{"DaysAfterInitiation -1", rule(`<AbortIncompleteMultipartUpload><DaysAfterInitiation>-1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), 400, "InvalidArgument", "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"},
		{"no action", rule(``), 400, "InvalidRequest", "At least one action needs to be specified in a rule"},
	} {
		status, code, body := putLifecycle(t, g, "backup", tc.body)
		var doc struct{ Message string }
		_ = xml.Unmarshal(body, &doc)
		if status != tc.status || code != tc.code || !strings.Contains(doc.Message, tc.msg) {
			t.Errorf("%s: %d %s, want %d %s with %q\n%s", tc.name, status, code, tc.status, tc.code, tc.msg, body)
		}
	}
	status, code, _ := rawDo(t, g, lifecycleRequest(t, g, http.MethodGet, "backup", nil, "-"))
	if status != http.StatusNotFound || code != "NoSuchLifecycleConfiguration" {
		t.Fatalf("a refused configuration was stored: Get %d %s", status, code)
	}

	// S3 requires a digest of the body, and checks it.
	body := []byte(many(1))
	status, code, doc := rawDo(t, g, lifecycleRequest(t, g, http.MethodPut, "backup", body, "-"))
	if status != http.StatusBadRequest || code != "InvalidRequest" || !bytes.Contains(doc, []byte("Content-MD5")) {
		t.Fatalf("Put without Content-MD5: %d %s %s", status, code, doc)
	}
	status, code, _ = rawDo(t, g, lifecycleRequest(t, g, http.MethodPut, "backup", body, md5Base64([]byte("other"))))
	if status != http.StatusBadRequest || code != "BadDigest" {
		t.Fatalf("Put with the Content-MD5 of another body: %d %s", status, code)
	}
	status, code, _ = putLifecycle(t, g, "nope", string(body))
	if status != http.StatusNotFound || code != "NoSuchBucket" {
		t.Fatalf("Put to a missing bucket: %d %s", status, code)
	}

	// S3's limit is 1,000 rules.
	if status, code, doc := putLifecycle(t, g, "backup", many(1000)); status != http.StatusOK {
		t.Fatalf("1,000 rules: %d %s %s", status, code, doc)
	}
	out, err := g.client().GetBucketLifecycleConfiguration(ctxT(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("backup")})
	if err != nil || len(out.Rules) != 1000 || aws.ToString(out.Rules[999].Filter.Prefix) != "p999/" {
		t.Fatalf("Get of 1,000 rules: %v", err)
	}
}

// TestLifecycleIsTheOwners: a lifecycle deletes data, so only the bucket's
// owner (or an admin) may read or change it, even a user a policy lets write.
func TestLifecycleIsTheOwners(t *testing.T) {
	g := newUsersGateway(t)
	alice := g.addUser(t, "alice", authz.RoleUser)
	bob := g.addUser(t, "bob", authz.RoleUser)
	mustBucket(t, alice, "alices")
	cfg := &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{ID: aws.String("r"),
		Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}}}}
	put := func(c *s3.Client) error {
		_, err := c.PutBucketLifecycleConfiguration(ctxT(t), &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("alices"), LifecycleConfiguration: cfg})
		return err
	}
	get := func(c *s3.Client) error {
		_, err := c.GetBucketLifecycleConfiguration(ctxT(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("alices")})
		return err
	}
	wantCode(t, put(bob), "AccessDenied")
	if err := put(alice); err != nil {
		t.Fatal(err)
	}
	wantCode(t, get(bob), "AccessDenied")
	_, err := bob.DeleteBucketLifecycle(ctxT(t), &s3.DeleteBucketLifecycleInput{Bucket: aws.String("alices")})
	wantCode(t, err, "AccessDenied")
	if err := get(alice); err != nil {
		t.Fatal(err)
	}
	if err := get(g.client()); err != nil { // the admin
		t.Fatalf("the admin reads it: %v", err)
	}
}
