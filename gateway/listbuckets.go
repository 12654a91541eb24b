package gateway

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/s3err"
)

// maxListBuckets is S3's bound on max-buckets.
const maxListBuckets = 10000

// listAllMyBucketsResult is ListBuckets: gofakes3's type lacks the paging fields
// and BucketRegion.
type listAllMyBucketsResult struct {
	XMLName           xml.Name          `xml:"ListAllMyBucketsResult"`
	Xmlns             string            `xml:"xmlns,attr"`
	Owner             gofakes3.UserInfo `xml:"Owner"`
	Buckets           []listedBucket    `xml:"Buckets>Bucket"`
	ContinuationToken string            `xml:"ContinuationToken,omitempty"`
	Prefix            string            `xml:"Prefix,omitempty"`
}

type listedBucket struct {
	Name         string               `xml:"Name"`
	CreationDate gofakes3.ContentTime `xml:"CreationDate"`
	BucketRegion string               `xml:"BucketRegion"`
}

// listBuckets answers ListBuckets with its prefix, max-buckets and
// continuation-token: the token is the last bucket name of the previous page.
func (s *Server) listBuckets(w *responseWriter, r *request) error {
	q := r.URL.Query()
	limit := 0 // all
	if v := q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListBuckets {
			return s3err.ErrInvalidArgument.WithMessage("Argument max-buckets must be an integer between 1 and 10000.")
		}
		limit = n
	}
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	buckets, err := s.idx.Buckets()
	if err != nil {
		return err
	}
	out := listAllMyBucketsResult{Xmlns: s3Namespace, Owner: gofakes3.UserInfo{ID: r.owner(), DisplayName: r.owner()},
		Buckets: []listedBucket{}, Prefix: prefix}
	for _, b := range buckets {
		if !strings.HasPrefix(b.Name, prefix) || (after != "" && b.Name <= after) || !s.visible(r, b.Name) {
			continue
		}
		if limit > 0 && len(out.Buckets) == limit {
			out.ContinuationToken = out.Buckets[limit-1].Name
			break
		}
		out.Buckets = append(out.Buckets, listedBucket{Name: b.Name, CreationDate: gofakes3.NewContentTime(b.Created),
			BucketRegion: s.cfg.Region})
	}
	return writeXML(w, http.StatusOK, out)
}

// validLocation reports whether a CreateBucket LocationConstraint names the
// gateway's region. As in S3, the default region us-east-1 is named by leaving the
// constraint out, never by spelling it.
func (s *Server) validLocation(c string) bool {
	return c == "" || (c == s.cfg.Region && c != DefaultRegion)
}
