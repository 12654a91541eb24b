package lifecycle

import (
	"strings"
	"testing"
	"time"
)

func TestDueRoundsUpToMidnightUTC(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from string
		days int
		want string
	}{
		{"2014-01-15T10:30:00Z", 3, "2014-01-19T00:00:00Z"}, // S3's own example
		{"2014-01-15T00:00:00Z", 1, "2014-01-16T00:00:00Z"},
		{"2014-01-15T23:59:59+02:00", 1, "2014-01-17T00:00:00Z"},
	} {
		if got := Due(at(tc.from), tc.days); !got.Equal(at(tc.want)) {
			t.Errorf("Due(%s, %d) = %s, want %s", tc.from, tc.days, got, tc.want)
		}
	}
}

func mustParse(t *testing.T, rules ...string) *Configuration {
	t.Helper()
	c, err := Parse([]byte(`<LifecycleConfiguration>` + strings.Join(rules, "") + `</LifecycleConfiguration>`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExpire: which versions of a key the rules remove, newest first, with
// versions written one day apart and the pass run at day 20.
func TestExpire(t *testing.T) {
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	now := base.Add(20 * day)
	// history returns versions written at the given days, newest first; "m"
	// makes a delete marker.
	history := func(spec ...string) []Version {
		var out []Version
		for _, s := range spec {
			var d int
			marker := strings.HasSuffix(s, "m")
			for _, c := range strings.TrimSuffix(s, "m") {
				d = d*10 + int(c-'0')
			}
			out = append(out, Version{ID: s, Time: base.Add(time.Duration(d) * day), DeleteMarker: marker})
		}
		return out
	}
	nve := func(prefix, days, newer string) string {
		n := ""
		if newer != "" {
			n = `<NewerNoncurrentVersions>` + newer + `</NewerNoncurrentVersions>`
		}
		return `<Rule><Filter><Prefix>` + prefix + `</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>` +
			days + `</NoncurrentDays>` + n + `</NoncurrentVersionExpiration></Rule>`
	}
	const markers = `<Rule><Prefix></Prefix><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`
	for _, tc := range []struct {
		name     string
		rules    []string
		key      string
		versions []string
		want     string
	}{
		// Counted from the successor's time: 15 became noncurrent at day 18, due
		// at midnight after day 21; 2 at day 15, due after day 18.
		{"noncurrent days from the successor", []string{nve("", "3", "")}, "k", []string{"18", "15", "2"}, "2"},
		{"other prefix untouched", []string{nve("docs/", "1", "")}, "k", []string{"18", "15", "2"}, ""},
		{"newer versions kept", []string{nve("", "1", "2")}, "k", []string{"10", "9", "8", "7", "6"}, "7 6"},
		{"disabled rule", []string{strings.Replace(nve("", "1", ""), "Enabled", "Disabled", 1)}, "k", []string{"10", "9"}, ""},
		{"the quickest rule wins", []string{nve("", "30", ""), nve("k", "2", "")}, "k", []string{"17", "9"}, "9"},
		{"lone current marker", []string{markers}, "k", []string{"5m"}, "5m"},
		{"marker with versions left", []string{markers}, "k", []string{"5m", "3"}, ""},
		{"marker once its versions expire", []string{markers, nve("", "1", "")}, "k", []string{"5m", "3", "2"}, "3 2 5m"},
		{"marker without the rule", []string{nve("", "1", "")}, "k", []string{"5m", "3"}, "3"},
		{"current object never", []string{nve("", "1", ""), markers}, "k", []string{"5"}, ""},
		{"noncurrent markers count", []string{nve("", "1", "1")}, "k", []string{"10", "9m", "8"}, "8"},
	} {
		c := mustParse(t, tc.rules...)
		var got []string
		for _, v := range c.Expire(tc.key, history(tc.versions...), now) {
			got = append(got, v.ID)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: removes %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAbortAfterTakesTheFewestDays(t *testing.T) {
	abort := func(prefix, days string) string {
		return `<Rule><Filter><Prefix>` + prefix + `</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>` +
			days + `</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`
	}
	c := mustParse(t, abort("", "7"), abort("tmp/", "1"), abort("x/", "3"), strings.Replace(abort("x/", "2"), "Enabled", "Disabled", 1))
	for key, want := range map[string]int{"tmp/a": 1, "a": 7, "x/y": 3} {
		if got, ok := c.AbortAfter(key); !ok || got != want {
			t.Errorf("AbortAfter(%s) = %d %v, want %d", key, got, ok, want)
		}
	}
	if _, ok := mustParse(t, `<Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`).AbortAfter("a"); ok {
		t.Error("a rule without AbortIncompleteMultipartUpload aborts")
	}
}

// TestPrefixesCoverTheRules: the pass reads the fewest prefixes that hold
// every key an enabled rule of the kind may act on.
func TestPrefixesCoverTheRules(t *testing.T) {
	nve := func(prefix, status string) string {
		return `<Rule><Filter><Prefix>` + prefix + `</Prefix></Filter><Status>` + status +
			`</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`
	}
	abort := `<Rule><Prefix>tmp/</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`
	c := mustParse(t, nve("docs/2024/", "Enabled"), nve("docs/", "Enabled"), nve("photos/", "Enabled"), nve("", "Disabled"), abort)
	if got := strings.Join(c.versionPrefixes(), ","); got != "docs/,photos/" {
		t.Errorf("version prefixes %q, want docs/,photos/", got)
	}
	if got := strings.Join(c.uploadPrefixes(), ","); got != "tmp/" {
		t.Errorf("upload prefixes %q, want tmp/", got)
	}
	c = mustParse(t, nve("docs/", "Enabled"), `<Rule><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`)
	if got := c.versionPrefixes(); len(got) != 1 || got[0] != "" {
		t.Errorf("with a rule for every key: %q, want the whole bucket", got)
	}
	if got := mustParse(t, `<Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>`).versionPrefixes(); len(got) != 0 {
		t.Errorf("ExpiredObjectDeleteMarker false reads %q, want nothing", got)
	}
}
