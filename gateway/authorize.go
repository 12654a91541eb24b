package gateway

import (
	"context"
	"net/http"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
)

// Authorizer is the directory of users and buckets (*users.Directory) as the
// gateway uses it. Without one (Config.Authorizer nil) every credential is
// an admin, as before users existed.
type Authorizer interface {
	// Principal returns who an access key belongs to.
	Principal(accessKey string) (authz.Principal, bool)
	// Bucket returns the owner and policy of a bucket.
	Bucket(name string) authz.Bucket
	// SetPolicy checks and journals a bucket policy ("" deletes it); a bad
	// one is an *authz.PolicyError.
	SetPolicy(ctx context.Context, bucket, text string) error
	// Quota returns a user's quota in bytes (0: none).
	Quota(user string) int64
}

// operationActions is the permission each S3 operation needs. Operations not
// listed need a signed request and nothing else (DeleteObjects checks each
// key itself).
var operationActions = map[string]authz.Action{
	"GetObject": authz.GetObject, "HeadObject": authz.GetObject, "GetObjectAttributes": authz.GetObject,
	"GetObjectAcl": authz.GetObject,
	"ListObjects":  authz.ListBucket, "ListObjectsV2": authz.ListBucket, "HeadBucket": authz.ListBucket,
	"GetBucketLocation": authz.ListBucket, "GetBucketVersioning": authz.ListBucket,
	"ListMultipartUploads": authz.ListBucket, "GetBucketAcl": authz.ListBucket,
	"PutObject": authz.PutObject, "CopyObject": authz.PutObject, "CreateMultipartUpload": authz.PutObject,
	"UploadPart": authz.PutObject, "UploadPartCopy": authz.PutObject, "CompleteMultipartUpload": authz.PutObject,
	"ListParts": authz.PutObject, "AbortMultipartUpload": authz.PutObject,
	"DeleteObject": authz.DeleteObject,
	"CreateBucket": authz.CreateBucket, "DeleteBucket": authz.DeleteBucket,
	"GetBucketPolicy": authz.GetBucketPolicy, "PutBucketPolicy": authz.PutBucketPolicy,
	"DeleteBucketPolicy": authz.DeleteBucketPolicy,
	"ListBuckets":        authz.ListAllMyBuckets,
	// Bucket configurations: read by whoever may list the bucket, changed by
	// its owner only, like its policy.
	"GetBucketCors": authz.ListBucket, "GetBucketTagging": authz.ListBucket,
	"PutBucketCors": authz.PutBucketPolicy, "DeleteBucketCors": authz.PutBucketPolicy,
	"PutBucketTagging": authz.PutBucketPolicy, "DeleteBucketTagging": authz.PutBucketPolicy,
	// A lifecycle deletes data: only the bucket's owner (or an admin) sees
	// or changes it.
	"GetBucketLifecycleConfiguration": authz.GetBucketPolicy,
	"PutBucketLifecycleConfiguration": authz.PutBucketPolicy, "DeleteBucketLifecycle": authz.PutBucketPolicy,
	"GetObjectTagging": authz.GetObject, "PutObjectTagging": authz.PutObject, "DeleteObjectTagging": authz.PutObject,
	// Versions: reading or listing them is reading (s3:GetObjectVersion,
	// s3:ListBucketVersions); removing one for good (DELETE ?versionId,
	// s3:DeleteObjectVersion) is a delete, which a write-only key may not
	// do; versioning is a configuration of the owner's.
	"ListObjectVersions": authz.ListBucket, "PutBucketVersioning": authz.PutBucketPolicy,
}

// anonymousResult stands for the signature of an unsigned request that a
// public bucket policy may let in: it carries no body.
var anonymousResult = &sigv4.Result{PayloadHash: sigv4.UnsignedPayload}

// identify verifies r's signature (authenticate: SigV4 or SigV2) and
// resolves its principal. An unsigned GET or HEAD goes on as anonymous when
// there is a directory, for authorize to judge against bucket policies.
func (s *Server) identify(r *request) error {
	auth, err := s.authenticate(r)
	if err != nil {
		if s.cfg.Authorizer != nil && err == s3err.ErrAccessDenied && unsigned(r.Request) &&
			(r.Method == http.MethodGet || r.Method == http.MethodHead) {
			r.auth, r.principal = anonymousResult, authz.Anonymous
			return nil
		}
		return err
	}
	r.auth = auth
	if s.cfg.Authorizer == nil {
		r.principal = authz.Principal{User: auth.AccessKey, Role: authz.RoleAdmin, Access: authz.AccessFull}
		return nil
	}
	p, ok := s.cfg.Authorizer.Principal(auth.AccessKey)
	if !ok {
		// The key was disabled between the signature check and now.
		return s3err.ErrInvalidAccessKeyID
	}
	r.principal = p
	return nil
}

func unsigned(r *http.Request) bool {
	return r.Header.Get("Authorization") == "" && !sigv4.IsPresigned(r.URL.Query())
}

// authorize is the one access decision of a request, taken before it is
// routed. It records what the handlers must still enforce (no overwrite).
func (s *Server) authorize(r *request) error {
	op := s.Operation(r.Request)
	if s.cfg.Authorizer == nil {
		return s.checkACL(r, op)
	}
	action, ok := operationActions[op]
	if !ok {
		if r.principal.IsAnonymous() {
			return s3err.ErrAccessDenied
		}
		return s.checkQuota(r, op) // DeleteObjects frees room
	}
	key := r.key
	if action == authz.ListBucket {
		key = r.URL.Query().Get("prefix")
	}
	if err := s.allow(r, action, r.bucket, key); err != nil {
		return err
	}
	if err := s.checkQuota(r, op); err != nil {
		return err
	}
	return s.checkACL(r, op)
}

// allow applies Decide to one bucket and key of r.
func (s *Server) allow(r *request, action authz.Action, bucket, key string) error {
	if s.cfg.Authorizer == nil {
		return nil
	}
	var b authz.Bucket
	if bucket != "" {
		b = s.cfg.Authorizer.Bucket(bucket)
	}
	d := authz.Decide(r.principal, action, b, key)
	if !d.Allow {
		r.log.Debug().Str("user", r.principal.User).Str("action", string(action)).Str("bucket", bucket).
			Str("key", key).Str("reason", d.Reason).Msg("access denied")
		return s3err.ErrAccessDenied
	}
	r.noOverwrite = r.noOverwrite || d.NoOverwrite
	return nil
}

// authorizePost decides a browser POST upload, whose signature is inside
// its form (postObject): PutObject of key by the key's principal.
func (s *Server) authorizePost(r *request, accessKey, key string) error {
	if s.cfg.Authorizer == nil {
		return nil
	}
	p, ok := s.cfg.Authorizer.Principal(accessKey)
	if !ok {
		return s3err.ErrInvalidAccessKeyID
	}
	r.principal = p
	if err := s.allow(r, authz.PutObject, r.bucket, key); err != nil {
		return err
	}
	if r.noOverwrite {
		if _, err := s.idx.Object(r.bucket, key); err == nil {
			return errNoOverwrite
		}
	}
	return nil
}

// visible reports whether ListBuckets shows bucket to r's principal.
func (s *Server) visible(r *request, bucket string) bool {
	if s.cfg.Authorizer == nil {
		return true
	}
	return authz.Visible(r.principal, s.cfg.Authorizer.Bucket(bucket))
}

// errNoOverwrite answers a write-only key's attempt to replace an object.
var errNoOverwrite = s3err.ErrAccessDenied.WithMessage("This access key may not overwrite an existing object.")
