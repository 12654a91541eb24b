package gateway

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestExpectContinueOnEmptyBody speaks HTTP on one connection as botocore does:
// every PUT sends Expect: 100-continue, and an answer other than 100 to an empty
// PUT would make botocore misread the next answer on that connection (the aws CLI
// then stalls for 60 s). Both PUTs must get 100 Continue, then 200.
func TestExpectContinueOnEmptyBody(t *testing.T) {
	g := newGateway(t)
	mustBucket(t, g.client(), "expect")
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(g.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	for i, body := range []string{"", "after the empty one"} {
		req := signed(t, http.MethodPut, g.URL+"/expect/k"+strconv.Itoa(i), []byte(body), testAccessKey, testSecret, time.Now())
		req.Header.Set("Expect", "100-continue")
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		for _, want := range []int{http.StatusContinue, http.StatusOK} {
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("PUT of %d bytes: read answer: %v", len(body), err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("PUT of %d bytes: status %d, want %d first", len(body), resp.StatusCode, want)
			}
		}
	}
	got, _ := getBytes(t, g.client(), &s3.GetObjectInput{Bucket: aws.String("expect"), Key: aws.String("k1")})
	if string(got) != "after the empty one" {
		t.Fatalf("read back %q", got)
	}
}
