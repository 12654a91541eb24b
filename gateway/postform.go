package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/postpolicy"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv2"
	"github.com/ipas/ipas/gateway/sigv4"
)

// maxPostFields bounds the form fields before the file, as S3 does (20 KB).
const maxPostFields = 20 << 10

var (
	errPostEnclosure = s3err.ErrPreconditionFailed.WithElements(s3err.Element{Name: "Condition",
		Value: "Bucket POST must be of the enclosure-type multipart/form-data"})
	errMalformedPOST = &s3err.APIError{Code: "MalformedPOSTRequest",
		Message: "The body of your POST request is not well-formed multipart/form-data.", Status: http.StatusBadRequest}
	errPostFieldsTooLarge = &s3err.APIError{Code: "MaxPostPreDataLengthExceeded",
		Message: "Your POST request fields preceding the upload file were too large.", Status: http.StatusBadRequest}
	errPostNoFile = s3err.ErrInvalidArgument.WithMessage("POST requires exactly one file upload per request.").WithElements(
		s3err.Element{Name: s3err.ElementArgumentName, Value: "file"}, s3err.Element{Name: s3err.ElementArgumentValue, Value: "0"})
)

// postForm is a browser upload's form: its fields before the file, by
// lower-case name in form order, and the file, not read yet.
type postForm struct {
	fields   []postpolicy.Field
	file     *multipart.Part
	filename string
}

func (f *postForm) get(name string) (string, bool) {
	for _, fl := range f.fields {
		if fl.Name == name {
			return fl.Value, true
		}
	}
	return "", false
}

// set replaces a field's value, adding the field if the form has none.
func (f *postForm) set(name, value string) {
	for i := range f.fields {
		if f.fields[i].Name == name {
			f.fields[i].Value = value
			return
		}
	}
	f.fields = append(f.fields, postpolicy.Field{Name: name, Value: value})
}

// header returns the fields as request headers, for the metadata and
// checksums a PUT would take from its headers.
func (f *postForm) header() http.Header {
	h := http.Header{}
	for _, fl := range f.fields {
		h.Set(fl.Name, fl.Value)
	}
	return h
}

// readPostForm reads the fields up to the file; what follows the file is
// never read, as in S3.
func readPostForm(r *http.Request, body io.Reader) (*postForm, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, errPostEnclosure
	}
	if params["boundary"] == "" {
		return nil, errMalformedPOST
	}
	mr := multipart.NewReader(body, params["boundary"])
	f := &postForm{}
	size := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, errPostNoFile
		}
		if err != nil {
			return nil, errMalformedPOST
		}
		name := strings.ToLower(part.FormName())
		if name == "file" {
			f.file, f.filename = part, part.FileName()
			return f, nil
		}
		v, err := io.ReadAll(io.LimitReader(part, maxPostFields+1-int64(size)))
		if err != nil {
			return nil, errMalformedPOST
		}
		if size += len(name) + len(v); size > maxPostFields {
			return nil, errPostFieldsTooLarge
		}
		if _, dup := f.get(name); !dup && name != "" {
			f.fields = append(f.fields, postpolicy.Field{Name: name, Value: string(v)})
		}
	}
}

func errPostMissingField(name string) error {
	return s3err.ErrInvalidArgument.WithMessage(fmt.Sprintf(
		"Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the fields.", name)).WithElements(
		s3err.Element{Name: s3err.ElementArgumentName, Value: name}, s3err.Element{Name: s3err.ElementArgumentValue, Value: ""})
}

// authenticatePost checks the form's signature of its policy, SigV4
// (x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature) or SigV2
// (AWSAccessKeyId, signature), and returns the access key. A form without
// any is anonymous, which no bucket allows.
func (s *Server) authenticatePost(f *postForm) (string, error) {
	if _, v2 := f.get("awsaccesskeyid"); v2 {
		return s.authenticatePostV2(f)
	}
	names := []string{"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "policy"}
	values := make([]string, len(names))
	var missing []string
	for i, n := range names {
		v, ok := f.get(n)
		values[i] = v
		if !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) == len(names) {
		return "", s3err.ErrAccessDenied
	}
	if len(missing) > 0 {
		return "", errPostMissingField(missing[0])
	}
	alg, cred, date, sig, policy := values[0], values[1], values[2], values[3], values[4]
	if alg != sigv4.Algorithm {
		return "", s3err.ErrInvalidArgument.WithMessage("Only AWS4-HMAC-SHA256 is supported").WithElements(
			s3err.Element{Name: s3err.ElementArgumentName, Value: "X-Amz-Algorithm"},
			s3err.Element{Name: s3err.ElementArgumentValue, Value: alg})
	}
	if _, err := time.Parse("20060102T150405Z", date); err != nil {
		return "", s3err.ErrInvalidArgument.WithMessage("X-Amz-Date must be formated via ISO8601 Long format").WithElements(
			s3err.Element{Name: s3err.ElementArgumentName, Value: "X-Amz-Date"},
			s3err.Element{Name: s3err.ElementArgumentValue, Value: date})
	}
	credArg := func(msg string) error {
		return s3err.ErrInvalidArgument.WithMessage(msg).WithElements(
			s3err.Element{Name: s3err.ElementArgumentName, Value: "x-amz-credential"},
			s3err.Element{Name: s3err.ElementArgumentValue, Value: cred})
	}
	accessKey, scope, why := sigv4.ParseCredential(cred)
	if why != "" {
		return "", credArg(why)
	}
	if s.cfg.RequireRegion && scope.Region != s.cfg.Region {
		return "", credArg(fmt.Sprintf("the region %q is wrong; expecting %q", scope.Region, s.cfg.Region))
	}
	secret, ok := s.cfg.Credentials.SecretKey(accessKey)
	if !ok {
		return "", s3err.ErrInvalidAccessKeyID.WithElements(s3err.Element{Name: s3err.ElementAWSAccessKeyID, Value: accessKey})
	}
	m := hmac.New(sha256.New, sigv4.DeriveSigningKey(secret, scope))
	m.Write([]byte(policy))
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return "", errPostSignature(accessKey, policy, sig)
	}
	return accessKey, nil
}

func (s *Server) authenticatePostV2(f *postForm) (string, error) {
	accessKey, _ := f.get("awsaccesskeyid")
	sig, ok := f.get("signature")
	if !ok {
		return "", errPostMissingField("signature")
	}
	policy, ok := f.get("policy")
	if !ok {
		return "", errPostMissingField("policy")
	}
	secret, ok := s.cfg.Credentials.SecretKey(accessKey)
	if !ok {
		return "", s3err.ErrInvalidAccessKeyID.WithElements(s3err.Element{Name: s3err.ElementAWSAccessKeyID, Value: accessKey})
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, sigv2.Sign(secret, policy)) {
		return "", errPostSignature(accessKey, policy, sig)
	}
	return accessKey, nil
}

// errPostSignature is SignatureDoesNotMatch with what S3 adds for a form: the
// string it signed is the policy, which is no secret.
func errPostSignature(accessKey, policy, sig string) error {
	hexBytes := make([]string, len(policy))
	for i := 0; i < len(policy); i++ {
		hexBytes[i] = fmt.Sprintf("%02x", policy[i])
	}
	return s3err.ErrSignatureDoesNotMatch.WithElements(
		s3err.Element{Name: s3err.ElementAWSAccessKeyID, Value: accessKey},
		s3err.Element{Name: "StringToSign", Value: policy},
		s3err.Element{Name: "SignatureProvided", Value: sig},
		s3err.Element{Name: "StringToSignBytes", Value: strings.Join(hexBytes, " ")})
}
