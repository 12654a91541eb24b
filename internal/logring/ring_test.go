package logring

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
)

// A logger writing through the ring keeps the last lines, with their level,
// message and fields, and a page filters by level and sequence.
func TestRing(t *testing.T) {
	ring := New(3)
	var out bytes.Buffer
	log := zerolog.New(zerolog.MultiLevelWriter(&out, ring)).With().Timestamp().Logger()
	log.Info().Str("component", "a").Msg("one")
	log.Warn().Str("bucket", "photos").Msg("two")
	log.Debug().Msg("three")
	log.Error().Err(fmt.Errorf("boom")).Msg("four")

	all := ring.Page(admin.LogQuery{})
	if all.Last != 4 || len(all.Lines) != 3 || all.Lines[0].Message != "two" || all.Lines[2].Message != "four" {
		t.Fatalf("the last 3 of 4 lines: %+v", all)
	}
	if all.Lines[0].Fields["bucket"] != "photos" || all.Lines[2].Fields["error"] != "boom" || all.Lines[0].Time.IsZero() {
		t.Errorf("fields and time kept: %+v", all.Lines)
	}
	if _, ok := all.Lines[0].Fields["level"]; ok {
		t.Error("the level is a field too")
	}
	warn := ring.Page(admin.LogQuery{Level: "warn"})
	if len(warn.Lines) != 2 || warn.Lines[0].Level != "warn" || warn.Lines[1].Level != "error" {
		t.Errorf("warn and above: %+v", warn.Lines)
	}
	after := ring.Page(admin.LogQuery{After: 3})
	if len(after.Lines) != 1 || after.Lines[0].Seq != 4 {
		t.Errorf("after 3: %+v", after.Lines)
	}
	if last := ring.Page(admin.LogQuery{Limit: 1}); len(last.Lines) != 1 || last.Lines[0].Message != "four" {
		t.Errorf("limit 1: %+v", last.Lines)
	}
	if !strings.Contains(out.String(), `"message":"one"`) {
		t.Error("the real output lost a line")
	}
}

// A huge line is kept cut, without its fields, and the ring stays bounded.
func TestRingBounds(t *testing.T) {
	ring := New(2)
	log := zerolog.New(ring)
	log.Info().Str("big", strings.Repeat("x", 3*MaxLineBytes)).Msg("huge")
	ring.Write([]byte("not json\n"))
	p := ring.Page(admin.LogQuery{})
	if len(p.Lines) != 2 || p.Lines[0].Message != "huge" || p.Lines[0].Fields != nil || p.Lines[0].Level != "info" {
		t.Fatalf("huge line: %+v", p.Lines[0])
	}
	if !strings.Contains(p.Lines[1].Message, "not json") {
		t.Errorf("a line that is not JSON: %+v", p.Lines[1])
	}
	for i := range 10 {
		log.Info().Int("i", i).Msg("x")
	}
	if p := ring.Page(admin.LogQuery{}); len(p.Lines) != 2 || p.Last != 12 {
		t.Fatalf("after 12 lines: %d kept, last %d", len(p.Lines), p.Last)
	}
}
