package gateway

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithy "github.com/aws/smithy-go"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/users"
)

// usersGateway is a gateway whose keys are users of a real directory over
// its journal; testAccessKey is the built-in admin's.
type usersGateway struct {
	*testGateway
	dir *users.Directory
}

func newUsersGateway(t testing.TB) *usersGateway {
	sealer, err := users.NewSealer(bytes.Repeat([]byte{7}, users.SealKeySize))
	if err != nil {
		t.Fatal(err)
	}
	ug := &usersGateway{}
	ug.testGateway = newGateway(t, func(g *testGateway) {
		g.onNode = func(g *testGateway) {
			ug.dir = users.New(g.node, sealer, map[string]string{testAccessKey: testSecret}, testLogger(t))
			g.cfg.Credentials, g.cfg.Authorizer = ug.dir, ug.dir
		}
	})
	return ug
}

// addUser adds a user and returns a client with their first key.
func (g *usersGateway) addUser(t testing.TB, name string, role authz.Role) *s3.Client {
	t.Helper()
	c, err := g.dir.AddUser(ctxT(t), name, role)
	if err != nil {
		t.Fatal(err)
	}
	return g.clientAs(c.AccessKey, c.SecretKey)
}

func (g *usersGateway) addKey(t testing.TB, user string, spec users.KeySpec) *s3.Client {
	t.Helper()
	c, err := g.dir.AddKey(ctxT(t), user, spec)
	if err != nil {
		t.Fatal(err)
	}
	return g.clientAs(c.AccessKey, c.SecretKey)
}

func (g *usersGateway) anonymous() *s3.Client {
	return g.clientAs("", "", func(o *s3.Options) { o.Credentials = aws.AnonymousCredentials{} })
}

// TestAuthorizationTable sends every S3 operation the gateway serves as the
// bucket's owner, another user, a readonly user, the owner's write-only key
// and an anonymous client, and checks each cell: allowed (no AccessDenied)
// or refused with AccessDenied. The bucket has no policy: only ownership
// and the key's limits decide.
func TestAuthorizationTable(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	owner := g.addUser(t, "alice", authz.RoleUser)
	clients := map[string]*s3.Client{
		"owner": owner, "other": g.addUser(t, "bob", authz.RoleUser), "readonly": g.addUser(t, "carol", authz.RoleReadOnly),
		"writeonly": g.addKey(t, "alice", users.KeySpec{Access: string(authz.AccessWrite)}), "anonymous": g.anonymous(),
	}
	// The owner goes last: some operations change what the next one finds.
	order := []string{"other", "readonly", "writeonly", "anonymous", "owner"}
	const b = "table"
	mustBucket(t, owner, b)
	put := func(key string) {
		t.Helper()
		if _, err := owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("v1")}); err != nil {
			t.Fatal(err)
		}
	}
	put("k")
	upload := func(key string) string {
		t.Helper()
		out, err := owner.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.UploadId)
	}
	policy := `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::table/locked/*"}}`

	type op func(c *s3.Client, who string) error
	A, D := true, false
	for _, row := range []struct {
		name string
		// allowed for owner, other, readonly, writeonly, anonymous
		want [5]bool
		do   op
	}{
		{"ListBuckets", [5]bool{A, A, A, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}},
		{"HeadBucket", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
			return err
		}},
		{"GetBucketLocation", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b)})
			return err
		}},
		{"GetBucketVersioning", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b)})
			return err
		}},
		{"ListObjectsV2", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
			return err
		}},
		{"ListObjects", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b)})
			return err
		}},
		{"ListMultipartUploads", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
			return err
		}},
		{"GetBucketAcl", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b)})
			return err
		}},
		{"PutBucketPolicy", [5]bool{A, D, D, D, D}, func(c *s3.Client, _ string) error {
			_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(policy)})
			return err
		}},
		{"GetBucketPolicy", [5]bool{A, D, D, D, D}, func(c *s3.Client, _ string) error {
			out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
			if err == nil && aws.ToString(out.Policy) != policy {
				t.Errorf("GetBucketPolicy = %q, want the policy put", aws.ToString(out.Policy))
			}
			return err
		}},
		{"HeadObject", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
			return err
		}},
		{"GetObject", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
			if err == nil {
				out.Body.Close()
			}
			return err
		}},
		{"GetObjectAttributes", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String(b), Key: aws.String("k"),
				ObjectAttributes: []s3types.ObjectAttributes{s3types.ObjectAttributesEtag}})
			return err
		}},
		{"GetObjectAcl", [5]bool{A, D, D, A, D}, func(c *s3.Client, _ string) error {
			_, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("k")})
			return err
		}},
		{"PutObject new", [5]bool{A, D, D, A, D}, func(c *s3.Client, who string) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("new-" + who), Body: strings.NewReader("x")})
			return err
		}},
		{"PutObject overwrite", [5]bool{A, D, D, D, D}, func(c *s3.Client, _ string) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("v2")})
			return err
		}},
		{"CopyObject new", [5]bool{A, D, D, A, D}, func(c *s3.Client, who string) error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy-" + who), CopySource: aws.String(b + "/k")})
			return err
		}},
		{"CopyObject overwrite", [5]bool{A, D, D, D, D}, func(c *s3.Client, _ string) error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("k"), CopySource: aws.String(b + "/k"),
				MetadataDirective: s3types.MetadataDirectiveReplace})
			return err
		}},
		{"CreateMultipartUpload", [5]bool{A, D, D, A, D}, func(c *s3.Client, who string) error {
			_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mpu-" + who)})
			return err
		}},
		{"UploadPart+Complete new", [5]bool{A, D, D, A, D}, func(c *s3.Client, who string) error {
			key := "done-" + who
			id := upload(key)
			part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: aws.String(id),
				PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
			if err != nil {
				return err
			}
			_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: aws.String(id),
				MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
			return err
		}},
		{"CompleteMultipartUpload overwrite", [5]bool{A, D, D, D, D}, func(c *s3.Client, who string) error {
			id := upload("k")
			part, err := owner.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: aws.String(id),
				PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: aws.String(id),
				MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
			return err
		}},
		{"ListParts", [5]bool{A, D, D, A, D}, func(c *s3.Client, who string) error {
			_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("lp"), UploadId: aws.String(upload("lp"))})
			return err
		}},
		{"AbortMultipartUpload", [5]bool{A, D, D, A, D}, func(c *s3.Client, who string) error {
			_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("ab"), UploadId: aws.String(upload("ab"))})
			return err
		}},
		{"DeleteObject", [5]bool{A, D, D, D, D}, func(c *s3.Client, who string) error {
			put("del-" + who)
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("del-" + who)})
			return err
		}},
		{"DeleteObject denied by policy", [5]bool{D, D, D, D, D}, func(c *s3.Client, who string) error {
			put("locked/" + who)
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("locked/" + who)})
			return err
		}},
		{"DeleteObjects", [5]bool{A, D, D, D, D}, func(c *s3.Client, who string) error {
			put("dels-" + who)
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b),
				Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("dels-" + who)}}}})
			if err == nil && len(out.Errors) > 0 {
				return &smithy.GenericAPIError{Code: aws.ToString(out.Errors[0].Code), Message: aws.ToString(out.Errors[0].Message)}
			}
			return err
		}},
		{"DeleteBucketPolicy", [5]bool{A, D, D, D, D}, func(c *s3.Client, _ string) error {
			_, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)})
			return err
		}},
		{"CreateBucket", [5]bool{A, A, D, A, D}, func(c *s3.Client, who string) error {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("made-by-" + who)})
			return err
		}},
		{"DeleteBucket", [5]bool{A, D, D, D, D}, func(c *s3.Client, who string) error {
			mustBucket(t, owner, "gone-"+who)
			_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("gone-" + who)})
			return err
		}},
	} {
		for _, who := range order {
			i := map[string]int{"owner": 0, "other": 1, "readonly": 2, "writeonly": 3, "anonymous": 4}[who]
			err := row.do(clients[who], who)
			code := errCode(err)
			if code == "Forbidden" { // a HEAD's 403 has no body to carry the code
				code = "AccessDenied"
			}
			switch {
			case row.want[i] && code == "AccessDenied":
				t.Errorf("%s as %s: AccessDenied, want allowed", row.name, who)
			case row.want[i] && err != nil:
				t.Errorf("%s as %s: %v, want success", row.name, who, err)
			case !row.want[i] && code != "AccessDenied":
				t.Errorf("%s as %s: %v (code %q), want AccessDenied", row.name, who, err, code)
			}
		}
	}
	// A missing bucket: NoSuchBucket to a signed request, as S3 says;
	// nothing to an anonymous one.
	_, err := clients["other"].GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket")
	_, err = clients["anonymous"].GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	wantCode(t, err, "AccessDenied")
	// What the refused writes did not do.
	got, err := owner.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if aws.ToString(got.ETag) == "" {
		t.Fatal("k lost its ETag")
	}
}

// TestBucketPolicySharing shares one prefix of alice's bucket read-only with
// bob and makes another public: bob reads and lists only that prefix, an
// unsigned GET works only under the public policy, and a key scoped to a
// prefix stays inside it. Bad policies answer MalformedPolicy or
// NotImplemented with the reason and change nothing.
func TestBucketPolicySharing(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	alice, bob := g.addUser(t, "alice", authz.RoleUser), g.addUser(t, "bob", authz.RoleUser)
	anon := g.anonymous()
	mustBucket(t, alice, "photos")
	for _, k := range []string{"holidays/beach.jpg", "private/diary.txt", "public/logo.png"} {
		if _, err := alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(k), Body: strings.NewReader("bytes of " + k)}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(c *s3.Client, key string) (string, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(key)})
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(out.Body)
		return buf.String(), nil
	}
	if _, err := read(bob, "holidays/beach.jpg"); errCode(err) != "AccessDenied" {
		t.Fatalf("bob before the policy: %v", err)
	}
	if _, err := read(anon, "public/logo.png"); errCode(err) != "AccessDenied" {
		t.Fatalf("anonymous before the policy: %v", err)
	}

	for _, c := range []struct{ policy, code, reason string }{
		{`{"Statement": [`, "MalformedPolicy", "not valid JSON"},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"mallory"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, "MalformedPolicy", "mallory"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:PutBucketTagging","Resource":"arn:aws:s3:::photos/*"}}`, "MalformedPolicy", "s3:PutBucketTagging"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`, "NotImplemented", "Condition"},
		{`{"Statement":[` + strings.Repeat(" ", authz.MaxPolicySize) + `]}`, "MalformedPolicy", ""},
	} {
		_, err := alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("photos"), Policy: aws.String(c.policy)})
		if errCode(err) != c.code || !strings.Contains(err.Error(), c.reason) {
			t.Fatalf("policy %.60q: %v, want %s naming %q", c.policy, err, c.code, c.reason)
		}
	}
	if _, err := alice.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("photos")}); errCode(err) != "NoSuchBucketPolicy" {
		t.Fatalf("a refused policy was kept: %v", err)
	}

	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["bob"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::photos/holidays/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/public/*"}]}`
	if _, err := alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("photos"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if got, err := read(bob, "holidays/beach.jpg"); err != nil || got != "bytes of holidays/beach.jpg" {
		t.Fatalf("bob reads the shared prefix: %q, %v", got, err)
	}
	if _, err := read(bob, "private/diary.txt"); errCode(err) != "AccessDenied" {
		t.Fatalf("bob reads outside the shared prefix: %v", err)
	}
	out, err := bob.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("photos"), Prefix: aws.String("holidays/")})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "holidays/beach.jpg" {
		t.Fatalf("bob lists the shared prefix: %v, %v", out, err)
	}
	if _, err := bob.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("photos")}); errCode(err) != "AccessDenied" {
		t.Fatalf("bob lists the whole bucket: %v", err)
	}
	if _, err := bob.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("holidays/x"), Body: strings.NewReader("x")}); errCode(err) != "AccessDenied" {
		t.Fatalf("bob writes into a read-only share: %v", err)
	}
	if got := bucketList(t, bob); strings.Join(got, ",") != "photos" {
		t.Fatalf("bob's ListBuckets %v; want the shared bucket", got)
	}
	if got, err := read(anon, "public/logo.png"); err != nil || got != "bytes of public/logo.png" {
		t.Fatalf("anonymous GET under the public policy: %q, %v", got, err)
	}
	if _, err := read(anon, "holidays/beach.jpg"); errCode(err) != "AccessDenied" {
		t.Fatalf("anonymous GET outside the public policy: %v", err)
	}
	if _, err := anon.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("public/x"), Body: strings.NewReader("x")}); errCode(err) != "AccessDenied" {
		t.Fatalf("anonymous PUT: %v", err)
	}
	if pub := g.dir.PublicBuckets(); strings.Join(pub, ",") != "photos" {
		t.Fatalf("PublicBuckets = %v", pub)
	}

	// A key scoped to a prefix of alice's bucket stays inside it.
	scoped := g.addKey(t, "alice", users.KeySpec{Access: string(authz.AccessRead), Scopes: []string{"photos/holidays/"}})
	if got, err := read(scoped, "holidays/beach.jpg"); err != nil || got != "bytes of holidays/beach.jpg" {
		t.Fatalf("scoped key inside its scope: %q, %v", got, err)
	}
	if _, err := read(scoped, "private/diary.txt"); errCode(err) != "AccessDenied" {
		t.Fatalf("scoped key outside its scope: %v", err)
	}
	if _, err := scoped.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("photos")}); errCode(err) != "AccessDenied" {
		t.Fatalf("scoped key lists the whole bucket: %v", err)
	}

	if _, err := alice.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	if _, err := read(anon, "public/logo.png"); errCode(err) != "AccessDenied" {
		t.Fatalf("anonymous GET after the policy is gone: %v", err)
	}
	if _, err := read(bob, "holidays/beach.jpg"); errCode(err) != "AccessDenied" {
		t.Fatalf("bob after the policy is gone: %v", err)
	}
}

func bucketList(t *testing.T, c *s3.Client) []string {
	t.Helper()
	out, err := c.ListBuckets(ctxT(t), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names
}

// TestCannedACLs: public-read on CreateBucket and PutObject becomes a
// public statement of the bucket's policy (anonymous GETs work for exactly
// that), the ACL reports the owner and the public grant, and the ACLs that
// mean nothing here answer NotImplemented (an unknown one InvalidArgument).
func TestCannedACLs(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	alice, bob, anon := g.addUser(t, "alice", authz.RoleUser), g.addUser(t, "bob", authz.RoleUser), g.anonymous()
	laptop := g.addKey(t, "alice", users.KeySpec{Access: string(authz.AccessWrite)})
	get := func(c *s3.Client, bucket, key string) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	put := func(c *s3.Client, bucket, key string, acl s3types.ObjectCannedACL) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(key), ACL: acl})
		return err
	}
	if _, err := alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("www"), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if err := put(alice, "www", "index.html", ""); err != nil {
		t.Fatal(err)
	}
	if err := get(anon, "www", "index.html"); err != nil {
		t.Fatalf("anonymous GET in a public-read bucket: %v", err)
	}
	acl, err := alice.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("www")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(acl.Owner.DisplayName) != "alice" || len(acl.Grants) != 2 || acl.Grants[1].Grantee.Type != s3types.TypeGroup ||
		!strings.HasSuffix(aws.ToString(acl.Grants[1].Grantee.URI), "/AllUsers") || acl.Grants[1].Permission != s3types.PermissionRead {
		t.Fatalf("GetBucketAcl of a public-read bucket: owner %+v, grants %+v", acl.Owner, acl.Grants)
	}

	mustBucket(t, alice, "docs")
	if err := put(alice, "docs", "flyer.pdf", s3types.ObjectCannedACLPublicRead); err != nil {
		t.Fatal(err)
	}
	if err := put(alice, "docs", "secret.pdf", s3types.ObjectCannedACLPrivate); err != nil {
		t.Fatal(err)
	}
	if err := get(anon, "docs", "flyer.pdf"); err != nil {
		t.Fatalf("anonymous GET of a public-read object: %v", err)
	}
	if err := get(anon, "docs", "secret.pdf"); errCode(err) != "AccessDenied" {
		t.Fatalf("anonymous GET of a private object: %v", err)
	}
	if err := put(laptop, "docs", "leak.pdf", s3types.ObjectCannedACLPublicRead); errCode(err) != "AccessDenied" {
		t.Fatalf("a write-only key made an object public: %v", err)
	}
	if err := put(alice, "docs", "x", s3types.ObjectCannedACLAuthenticatedRead); errCode(err) != "NotImplemented" {
		t.Fatalf("authenticated-read: %v", err)
	}
	if err := put(alice, "docs", "y", "everyone-please"); errCode(err) != "InvalidArgument" {
		t.Fatalf("an unknown ACL: %v", err)
	}
	if _, err := alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String("z"), Body: strings.NewReader("z"),
		GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/AllUsers"`)}); errCode(err) != "NotImplemented" {
		t.Fatalf("a grant header: %v", err)
	}
	for _, k := range []string{"x", "y", "z", "leak.pdf"} {
		if err := get(alice, "docs", k); errCode(err) != "NoSuchKey" {
			t.Fatalf("a refused PUT of %s left an object: %v", k, err)
		}
	}
	// bob sees alice as the owner of what she shares with him.
	if err := g.dir.SetPolicy(ctx, "docs", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::docs"}}`); err != nil {
		t.Fatal(err)
	}
	acl, err = bob.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("docs")})
	if err != nil || aws.ToString(acl.Owner.ID) != "alice" {
		t.Fatalf("bob's GetBucketAcl of alice's bucket: %+v, %v", acl, err)
	}
}

// TestQuota: a write that would pass the bucket owner's quota answers 403
// QuotaExceeded with a message and stores nothing; deleting makes room.
func TestQuota(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	alice := g.addUser(t, "alice", authz.RoleUser)
	mustBucket(t, alice, "quota")
	if err := g.dir.SetQuota(ctx, "alice", 10<<10); err != nil {
		t.Fatal(err)
	}
	put := func(key string, n int) error {
		_, err := alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("quota"), Key: aws.String(key), Body: bytes.NewReader(make([]byte, n))})
		return err
	}
	if err := put("a", 6<<10); err != nil {
		t.Fatal(err)
	}
	err := put("b", 6<<10)
	if errCode(err) != "QuotaExceeded" || !strings.Contains(err.Error(), "StatusCode: 403") || !strings.Contains(err.Error(), "quota of alice") {
		t.Fatalf("a PUT over the quota: %v", err)
	}
	if _, err := alice.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("quota"), Key: aws.String("b")}); errCode(err) != "NotFound" {
		t.Fatalf("the refused PUT stored an object: %v", err)
	}
	if err := put("c", 3<<10); err != nil {
		t.Fatalf("a PUT within the quota: %v", err)
	}
	if _, err := alice.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("quota"), Key: aws.String("m")}); err != nil {
		t.Fatalf("a multipart upload below the quota: %v", err)
	}
	if _, err := alice.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("quota"), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if err := put("b", 6<<10); err != nil {
		t.Fatalf("a PUT after deleting made room: %v", err)
	}
	if err := g.dir.SetQuota(ctx, "alice", 0); err != nil {
		t.Fatal(err)
	}
	if err := put("big", 64<<10); err != nil {
		t.Fatalf("a PUT without a quota: %v", err)
	}
}

// TestPostObjectAuthorized: a browser form upload is decided like a PUT:
// its owner's form is stored, another user's is refused with AccessDenied.
func TestPostObjectAuthorized(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	alice, err := g.dir.AddUser(ctx, "alice", authz.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := g.dir.AddUser(ctx, "bob", authz.RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	mustBucket(t, g.clientAs(alice.AccessKey, alice.SecretKey), "forms")
	form := func(c users.Credential, key string) (int, []byte) {
		status, _, body := g.post(t, "forms", postUpload{accessKey: c.AccessKey, secret: c.SecretKey,
			fields: [][2]string{{"key", key}}, conditions: []any{[]any{"starts-with", "$key", ""}}, file: []byte("form data")})
		return status, body
	}
	if status, body := form(bob, "bobs.txt"); status != 403 || !strings.Contains(string(body), "AccessDenied") {
		t.Fatalf("bob's POST into alice's bucket: %d %s", status, body)
	}
	if status, body := form(alice, "alices.txt"); status >= 300 {
		t.Fatalf("alice's POST into her bucket: %d %s", status, body)
	}
	if _, err := g.clientAs(alice.AccessKey, alice.SecretKey).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("forms"), Key: aws.String("bobs.txt")}); errCode(err) != "NotFound" {
		t.Fatalf("bob's refused form stored an object: %v", err)
	}
}
