package postpolicy

import (
	"encoding/base64"
	"testing"
	"time"
)

// FuzzParse: no policy document, however broken, panics Parse or Check.
func FuzzParse(f *testing.F) {
	f.Add(`{"expiration":"2027-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key",""],["content-length-range",0,9]]}`)
	f.Add(`{"expiration":"2027-01-01T00:00:00Z","conditions":[[],{},["eq"],[1,2,3]]}`)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(base64.StdEncoding.EncodeToString([]byte(doc)), now)
		if err != nil {
			return
		}
		_ = p.Check([]Field{{"bucket", "b"}, {"key", "k"}, {"content-type", "a, b"}})
		_ = p.CheckLength(5)
	})
}
