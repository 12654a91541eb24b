package remote

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/ipas/ipas/replication"
)

// Clock skew limits: S3 rejects requests signed more than 15 minutes off.
const (
	// MaxClockSkew fails the check: requests would be refused soon.
	MaxClockSkew = 5 * time.Minute
	// WarnClockSkew warns: NTP is probably not running.
	WarnClockSkew = 30 * time.Second
)

// Step is one line of a Check report.
type Step struct {
	Name   string
	OK     bool
	Warn   bool // passed, but worth a look
	Detail string
}

// Report is the result of Check.
type Report struct {
	Remote string // endpoint, bucket and prefix
	Steps  []Step
	OK     bool
}

// Verdict is a one-line summary for humans.
func (r Report) Verdict() string {
	if r.OK {
		return "OK: " + r.Remote + " is ready for replication"
	}
	for _, s := range r.Steps {
		if !s.OK {
			return "FAIL: " + s.Name + ": " + s.Detail
		}
	}
	return "FAIL"
}

// String renders the report, one step a line, then the verdict.
func (r Report) String() string {
	var b strings.Builder
	for _, s := range r.Steps {
		mark := "ok  "
		switch {
		case !s.OK:
			mark = "FAIL"
		case s.Warn:
			mark = "warn"
		}
		fmt.Fprintf(&b, "%s  %-22s %s\n", mark, s.Name, s.Detail)
	}
	b.WriteString(r.Verdict())
	b.WriteString("\n")
	return b.String()
}

// Check tests what replication needs, in order, and stops at the first
// failure: credentials (found, and accepted by the remote), bucket access
// and clock skew, the bucket's versioning and Object Lock (reported, never
// a failure: protectionSteps), writing and reading
// back an object with our metadata, multipart (create, upload a part, list
// parts, abort) and listing multipart uploads. It leaves nothing behind
// except when deleting its test object is denied (archive-only keys).
func (c *Client) Check(ctx context.Context) Report {
	rep := Report{Remote: c.describe()}
	add := func(name string, err error, detail string) bool {
		s := Step{Name: name, OK: err == nil, Detail: detail}
		if err != nil {
			s.Detail = err.Error()
		}
		rep.Steps = append(rep.Steps, s)
		return err == nil
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		add("credentials", err, "")
		return rep
	}
	key := "access key " + mask(creds.AccessKeyID) + " from " + creds.Source
	out, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.cfg.Bucket)})
	if err != nil {
		// A HEAD error has no body, hence no S3 error code: a listing says
		// which of "no such bucket", "unknown key" or "denied" it is.
		_, lerr := c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(c.cfg.Bucket), MaxKeys: aws.Int32(1)})
		if lerr != nil {
			err = lerr
		}
	}
	// The credentials are good only once the remote has accepted them.
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && credentialCodes[api.ErrorCode()]:
		add("credentials", classify("access bucket", c.cfg.Bucket, err), "")
		rep.Steps[len(rep.Steps)-1].Detail = "the remote refused " + key + ": " + rep.Steps[len(rep.Steps)-1].Detail
		return rep
	case err == nil || errors.As(err, &api):
		add("credentials", nil, key+", accepted by the remote")
	}
	if err != nil {
		err = fmt.Errorf("%w%s", classify("access bucket", c.cfg.Bucket, err), c.pathStyleHint(err))
	}
	if !add("bucket access", err, "bucket "+c.cfg.Bucket+" reachable") {
		return rep
	}
	rep.Steps = append(rep.Steps, skewStep(out.ResultMetadata))
	if !rep.Steps[len(rep.Steps)-1].OK {
		return rep
	}
	prot, err := c.Protection(ctx)
	if err != nil {
		// A key without s3:GetBucketVersioning still replicates: versions
		// then go under the versions prefix, as on an unversioned remote.
		prot = Protection{Versioning: VersioningOff, LockErr: err}
		rep.Steps = append(rep.Steps, Step{Name: "remote versioning", OK: true, Warn: true,
			Detail: "cannot read it (" + err.Error() + "): IPAS keeps versions under " + controlDir + "versions/ as on an unversioned remote"})
	} else {
		rep.Steps = append(rep.Steps, protectionSteps(prot)...)
	}
	name := probeName() + "-check"
	body := []byte("ipas remote check\n")
	sum := md5.Sum(body)
	meta := replication.ObjectMeta{SHA256: "check", Size: int64(len(body)), ModTime: time.Now(), ContentType: "text/plain"}
	_, err = c.PutObject(ctx, name, bytes.NewReader(body), int64(len(body)), sum[:], meta)
	if !add("write object", err, "put "+c.Key(name)) {
		return rep
	}
	h, err := c.HeadObject(ctx, name)
	if err == nil && (h.Size != int64(len(body)) || h.Meta.SHA256 != "check") {
		err = fmt.Errorf("remote: head %s: size %d and sha256 metadata %q: the remote does not keep metadata", name, h.Size, h.Meta.SHA256)
	}
	if !add("read back metadata", err, "size and x-amz-meta-"+MetaSHA256+" kept") {
		return rep
	}
	switch err := c.deleteProbe(ctx, name, prot.Versioning != VersioningOff); {
	case err != nil && prot.Lock:
		rep.Steps = append(rep.Steps, Step{Name: "delete object", OK: true, Warn: true,
			Detail: "Object Lock keeps the test object " + c.Key(name) + " until its retention ends (" + err.Error() + "): as it should"})
	case err != nil:
		rep.Steps = append(rep.Steps, Step{Name: "delete object", OK: true, Warn: true,
			Detail: "cannot delete (" + err.Error() + "): fine for the archive policy, not for mirror"})
	default:
		add("delete object", nil, "deleted the test object")
	}
	if !add("multipart upload", c.checkMultipart(ctx), "create, upload part, list parts, abort") {
		return rep
	}
	_, err = c.ListMultipartUploads(ctx)
	if err != nil {
		rep.Steps = append(rep.Steps, Step{Name: "list uploads", OK: true, Warn: true,
			Detail: "cannot list multipart uploads (" + err.Error() + "): abandoned uploads will not be cleaned up"})
	} else {
		add("list uploads", nil, "abandoned uploads can be cleaned up")
	}
	rep.OK = true
	return rep
}

func (c *Client) checkMultipart(ctx context.Context) error {
	name := probeName() + "-multipart"
	id, err := c.CreateMultipartUpload(ctx, name, replication.ObjectMeta{})
	if err != nil {
		return err
	}
	defer c.AbortMultipartUpload(context.WithoutCancel(ctx), name, id)
	body := []byte("part")
	sum := md5.Sum(body)
	if _, err := c.UploadPart(ctx, name, id, 1, bytes.NewReader(body), int64(len(body)), sum[:]); err != nil {
		return err
	}
	parts, err := c.ListParts(ctx, name, id)
	if err != nil {
		return err
	}
	if len(parts) != 1 || parts[0].Size != int64(len(body)) {
		return fmt.Errorf("remote: list parts %s: got %+v, want one part of %d bytes", name, parts, len(body))
	}
	return c.AbortMultipartUpload(ctx, name, id)
}

// skewStep compares the remote's Date header with the local clock.
func skewStep(md middleware.Metadata) Step {
	s := Step{Name: "clock skew", OK: true}
	raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		s.Warn, s.Detail = true, "no response to read the remote's clock from"
		return s
	}
	remote, err := http.ParseTime(raw.Header.Get("Date"))
	if err != nil {
		s.Warn, s.Detail = true, "the remote sent no Date header"
		return s
	}
	skew := time.Since(remote).Round(time.Second)
	s.Detail = fmt.Sprintf("local clock is %s off the remote's", skew)
	abs := max(skew, -skew)
	switch {
	case abs > MaxClockSkew:
		s.OK = false
		s.Detail += fmt.Sprintf(" (more than %s): fix the time (enable NTP: timedatectl set-ntp true)", MaxClockSkew)
	case abs > WarnClockSkew:
		s.Warn = true
		s.Detail += ": check that NTP runs"
	}
	return s
}

func (c *Client) describe() string {
	ep := c.cfg.Endpoint
	if ep == "" {
		ep = "AWS S3 (" + c.cfg.Region + ")"
	}
	return fmt.Sprintf("%s bucket %s prefix %q", ep, c.cfg.Bucket, c.cfg.Prefix)
}

// mask shows the first four characters of a key ID, never a secret.
func mask(id string) string {
	if len(id) <= 4 {
		return id
	}
	return id[:4] + strings.Repeat("*", len(id)-4)
}

// credentialCodes are the S3 error codes that mean the remote does not
// accept the access key or its signature.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"XAdminUserNotFound":    true, // versitygw's unknown access key
}

// pathStyleHint explains a DNS failure of a virtual-host name: without
// path_style the bucket is addressed as BUCKET.HOST, a name a self-hosted
// server rarely has.
func (c *Client) pathStyleHint(err error) string {
	var dns *net.DNSError
	if c.cfg.PathStyle || c.cfg.Endpoint == "" || !errors.As(err, &dns) || !strings.HasPrefix(dns.Name, c.cfg.Bucket+".") {
		return ""
	}
	return fmt.Sprintf("; %s does not resolve because without path_style the bucket is addressed as BUCKET.HOST: "+
		"most self-hosted servers (MinIO, Garage, versitygw, a NAS) need remote.path_style: true (or %s=true)", dns.Name, EnvPathStyle)
}
