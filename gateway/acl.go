package gateway

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/gateway/s3err"
)

// Canned ACLs on creation (x-amz-acl on CreateBucket, PutObject, CopyObject,
// CreateMultipartUpload) map onto bucket policies where they mean something:
// "private" is what everything is; "public-read" adds a statement that lets
// anyone GET the bucket's objects (or the one object) to the bucket's
// policy. Every other ACL, and x-amz-grant-* headers, answer NotImplemented
// rather than being ignored.

// createsWithACL are the operations whose x-amz-acl applies.
var createsWithACL = map[string]bool{"CreateBucket": true, "PutObject": true, "CopyObject": true, "CreateMultipartUpload": true}

// cannedACL reads the ACL headers of a creating request: publicRead is set
// for "public-read".
func (s *Server) cannedACL(r *request) (publicRead bool, err error) {
	for name := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			return false, s3err.ErrNotImplemented.WithMessage("ACL grants are not implemented by this gateway; share with a bucket policy.")
		}
	}
	switch acl := r.Header.Get("X-Amz-Acl"); acl {
	case "", "private", "bucket-owner-full-control", "bucket-owner-read":
		// What every object is: its bucket's owner has full control of it.
		return false, nil
	case "public-read":
		if s.cfg.Authorizer == nil {
			return false, s3err.ErrNotImplemented.WithMessage("The public-read ACL needs bucket policies, which this gateway was started without.")
		}
		return true, nil
	case "public-read-write", "authenticated-read", "aws-exec-read", "log-delivery-write":
		return false, s3err.ErrNotImplemented.WithMessage(fmt.Sprintf("The canned ACL %q is not implemented by this gateway: use private, public-read, or a bucket policy.", acl))
	default:
		return false, s3err.ErrInvalidArgument.WithMessage(fmt.Sprintf("%q is not a canned ACL.", acl))
	}
}

// checkACL applies the ACL headers of r: NotImplemented for what has no
// meaning here; for public-read, the right to change the bucket's policy is
// needed, and an object's statement is added before the object is written
// (a bucket's, once it exists: makePublic).
func (s *Server) checkACL(r *request, op string) error {
	if !createsWithACL[op] {
		return nil
	}
	public, err := s.cannedACL(r)
	if err != nil || !public {
		return err
	}
	r.publicRead = true
	if op == "CreateBucket" {
		return nil
	}
	if err := s.allow(r, authz.PutBucketPolicy, r.bucket, ""); err != nil {
		return err
	}
	return s.makePublic(r, r.key)
}

// makePublic adds to the bucket's policy a statement letting anyone GET key
// ("" for every object of the bucket).
func (s *Server) makePublic(r *request, key string) error {
	b := s.cfg.Authorizer.Bucket(r.bucket)
	if !b.Exists {
		return s3err.ErrNoSuchBucket
	}
	resource := "arn:aws:s3:::" + r.bucket + "/" + key
	if key == "" {
		resource += "*"
	}
	doc := map[string]any{"Version": "2012-10-17"}
	var stmts []any
	if b.Policy != nil {
		if err := json.Unmarshal([]byte(b.Policy.Text), &doc); err != nil {
			return fmt.Errorf("gateway: policy of %s: %w", r.bucket, err)
		}
		switch v := doc["Statement"].(type) {
		case []any:
			stmts = v
		case map[string]any:
			stmts = []any{v}
		}
	}
	for _, st := range stmts {
		if m, ok := st.(map[string]any); ok && m["Sid"] == "PublicRead "+resource {
			return nil // public already
		}
	}
	doc["Statement"] = append(stmts, map[string]any{"Sid": "PublicRead " + resource, "Effect": "Allow",
		"Principal": "*", "Action": "s3:GetObject", "Resource": resource})
	text, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	err = s.cfg.Authorizer.SetPolicy(r.Context(), r.bucket, string(text))
	if pe, ok := err.(*authz.PolicyError); ok {
		return s3err.ErrMalformedPolicy.WithMessage("The public-read ACL does not fit the bucket's policy: " + pe.Reason)
	}
	return err
}

// aclOwner is the owner GetBucketAcl and GetObjectAcl report: the bucket's
// owner (the admins for a bucket without one) by name. Its ID is the
// requester's access key when the requester owns the bucket, as S3 clients
// compare it with the owner of their own ListBuckets.
func (s *Server) aclOwner(r *request) (id, name string, public bool) {
	if s.cfg.Authorizer == nil {
		return r.owner(), r.owner(), false
	}
	b := s.cfg.Authorizer.Bucket(r.bucket)
	name = b.Owner
	if name == "" {
		name = authz.AdminUser
	}
	id = name
	if name == r.principal.User {
		id = r.owner()
	}
	return id, name, b.Policy.Public()
}

// allUsersRead is the grant GetBucketAcl shows for a public bucket.
var allUsersRead = grant{Grantee: grantee{XMLNS: "http://www.w3.org/2001/XMLSchema-instance", Type: "Group",
	URI: "http://acs.amazonaws.com/groups/global/AllUsers"}, Permission: "READ"}
