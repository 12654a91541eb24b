package gateway

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/internal/s3name"
	"github.com/ipas/ipas/queue"
)

var errMalformedXML = s3err.ErrMalformedXML

// createBucketConfiguration is the optional body of CreateBucket.
type createBucketConfiguration struct {
	LocationConstraint string `xml:"LocationConstraint"`
	Tags               []tag  `xml:"Tags>Tag"`
}

func (s *Server) createBucket(w *responseWriter, r *request) error {
	if err := s3name.CheckBucket(r.bucket); err != nil {
		return s3err.ErrInvalidBucketName
	}
	raw, err := s.readXML(w, r)
	if err != nil {
		return err
	}
	var c createBucketConfiguration
	if len(raw) > 0 {
		if err := decodeXML(raw, &c); err != nil {
			return err
		}
		if !s.validLocation(c.LocationConstraint) {
			return s3err.ErrInvalidLocationConstraint
		}
		if err := checkTags(c.Tags, maxBucketTags, errBucketTagLimit); err != nil {
			return err
		}
	}
	if err := s.idx.CreateOwnedBucket(r.Context(), r.bucket, r.principal.User, s.now()); err != nil {
		if errors.Is(err, queue.ErrBucketExists) && s.cfg.Authorizer != nil &&
			!authz.Owns(r.principal, s.cfg.Authorizer.Bucket(r.bucket)) {
			return s3err.ErrBucketAlreadyExists
		}
		return err
	}
	if r.publicRead {
		if err := s.makePublic(r, ""); err != nil {
			return err
		}
	}
	if s.cfg.VersionNewBuckets && s.settings != nil && s.versions != nil {
		if err := s.settings.SetBucketSetting(r.Context(), r.bucket, queue.SettingVersioning, queue.VersioningEnabled); err != nil {
			return err
		}
	}
	if len(c.Tags) > 0 && s.settings != nil {
		t, _ := xml.Marshal(tagging{Xmlns: s3Namespace, TagSet: c.Tags})
		if err := s.settings.SetBucketSetting(r.Context(), r.bucket, queue.SettingTagging, string(t)); err != nil {
			return err
		}
	}
	w.Header().Set("Location", "/"+r.bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucket(w *responseWriter, r *request) error {
	if err := s.idx.DeleteBucket(r.Context(), r.bucket); err != nil {
		if errors.Is(err, queue.ErrBucketNotEmpty) {
			if state, _ := s.bucketVersioning(r.bucket); state != "" {
				return s3err.ErrBucketNotEmpty.WithMessage("The bucket you tried to delete is not empty. You must delete all versions in the bucket.")
			}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkBucket returns NoSuchBucket unless the request's bucket exists.
func (s *Server) checkBucket(r *request) error {
	ok, err := s.idx.BucketExists(r.bucket)
	if err != nil {
		return err
	}
	if !ok {
		return s3err.ErrNoSuchBucket
	}
	return nil
}

func (s *Server) headBucket(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	w.Header().Set("X-Amz-Bucket-Region", s.cfg.Region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketLocation(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	loc := s.cfg.Region
	if loc == "us-east-1" {
		loc = "" // how S3 reports its default region
	}
	return writeXML(w, http.StatusOK, gofakes3.GetBucketLocation{Xmlns: s3Namespace, LocationConstraint: loc})
}

// accessControlPolicy is the canned private ACL: the owner has FULL_CONTROL.
type accessControlPolicy struct {
	XMLName xml.Name          `xml:"AccessControlPolicy"`
	Xmlns   string            `xml:"xmlns,attr"`
	Owner   gofakes3.UserInfo `xml:"Owner"`
	Grants  []grant           `xml:"AccessControlList>Grant"`
}

type grant struct {
	Grantee    grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

type grantee struct {
	XMLNS       string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

// getACL answers GET ?acl on a bucket or object with the canned private ACL, which
// is what every bucket and object of the gateway effectively has.
func (s *Server) getACL(w *responseWriter, r *request) error {
	if err := s.checkBucket(r); err != nil {
		return err
	}
	if r.key != "" {
		if _, err := s.idx.Object(r.bucket, r.key); err != nil {
			return err
		}
	}
	id, name, public := s.aclOwner(r)
	acl := accessControlPolicy{
		Xmlns: s3Namespace,
		Owner: gofakes3.UserInfo{ID: id, DisplayName: name},
		Grants: []grant{{
			Grantee:    grantee{XMLNS: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: id, DisplayName: name},
			Permission: "FULL_CONTROL",
		}},
	}
	if public && r.key == "" {
		acl.Grants = append(acl.Grants, allUsersRead)
	}
	return writeXML(w, http.StatusOK, acl)
}

// objectOrBucketError turns a missing key into NoSuchBucket when the bucket is the
// thing missing.
func (s *Server) objectOrBucketError(r *request, err error) error {
	if errors.Is(err, queue.ErrNoSuchKey) || errors.Is(err, queue.ErrNoSuchBucket) {
		if cerr := s.checkBucket(r); cerr != nil {
			return cerr
		}
		return s3err.ErrNoSuchKey
	}
	return err
}
