package cors

import (
	"net/http"
	"testing"
)

func TestMatch(t *testing.T) {
	c, err := Parse([]byte(`<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin>` +
		`<AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>` +
		`</CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin, method string
		headers        []string
		rule           int // -1: none
	}{
		{"https://app.example.com", "PUT", []string{"x-amz-date", "content-type"}, 0},
		{"https://example.com", "PUT", nil, -1}, // the wildcard needs a subdomain
		{"http://app.example.com", "PUT", nil, -1},
		{"https://app.example.com", "PUT", []string{"authorization"}, -1},
		{"https://app.example.com", "GET", []string{}, 1},
		{"null", "GET", nil, 1},
		{"null", "DELETE", nil, -1},
	} {
		got := c.Match(Request{Origin: tc.origin, Method: tc.method, Headers: tc.headers})
		want := (*Rule)(nil)
		if tc.rule >= 0 {
			want = &c.Rules[tc.rule]
		}
		if got != want {
			t.Errorf("%s %s %v: rule %p, want %p", tc.origin, tc.method, tc.headers, got, want)
		}
	}
}

func TestParseRequest(t *testing.T) {
	h := http.Header{}
	h.Set(HeaderOrigin, "https://a")
	h.Set(HeaderRequestMethod, "PUT")
	h.Set(HeaderRequestHeaders, "X-Amz-Date, Content-Type")
	req, err := ParseRequest(h, http.MethodOptions)
	if err != nil || req.Method != "PUT" || len(req.Headers) != 2 || req.Headers[0] != "x-amz-date" || !req.Preflight {
		t.Fatalf("preflight: %+v %v", req, err)
	}
	h.Del(HeaderRequestMethod)
	if _, err := ParseRequest(h, http.MethodOptions); err == nil {
		t.Fatal("a preflight without Access-Control-Request-Method was accepted")
	}
	if req, err := ParseRequest(h, http.MethodGet); err != nil || req.Method != "GET" || req.Preflight {
		t.Fatalf("actual request: %+v %v", req, err)
	}
}
