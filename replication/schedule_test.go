package replication

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"300KiB/s", 300 << 10, false},
		{"300kib/s", 300 << 10, false},
		{" 300 KiB/s ", 300 << 10, false},
		{"1.5MB/s", 1500000, false},
		{"2MiB/s", 2 << 20, false},
		{"1GiB/s", 1 << 30, false},
		{"2kb", 2000, false},
		{"2K", 2 << 10, false},
		{"3m", 3 << 20, false},
		{"1g", 1 << 30, false},
		{"600000", 600000, false},
		{"600000B/s", 600000, false},
		{"unlimited", Unlimited, false},
		{"Unlimited", Unlimited, false},
		{"none", Unlimited, false},
		{"off", Unlimited, false},
		{"", 0, true},
		{"0", 0, true},
		{"-5KiB/s", 0, true},
		{"fast", 0, true},
		{"KiB/s", 0, true},
		{"300kbps", 0, true},
		// Not finite, or rounding to zero (which would mean unlimited), or overflowing int64.
		{"inf", 0, true},
		{"NaN", 0, true},
		{"0.5", 0, true},
		{"1e30GiB/s", 0, true},
	} {
		got, err := ParseRate(c.in)
		if c.err {
			if err == nil {
				t.Errorf("ParseRate(%q) = %d, want an error", c.in, got)
			} else if !strings.Contains(err.Error(), "300KiB/s") {
				t.Errorf("ParseRate(%q): error %q does not say how to write a rate", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func days(ds ...time.Weekday) [7]bool {
	var d [7]bool
	for _, w := range ds {
		d[w] = true
	}
	return d
}

var week = days(time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)

func TestParseTimetable(t *testing.T) {
	for _, c := range []struct {
		in        string
		want      Schedule
		otherwise int64
		ok        bool
		err       string // substring of the error; "" for none
	}{
		{in: "", want: nil},
		{in: "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited",
			want: Schedule{{Days: days(1, 2, 3, 4, 5), From: 8 * 60, To: 18 * 60, Limit: 300 << 10}}, otherwise: Unlimited, ok: true},
		{in: "Mon-Fri 08:00-18:00 300KiB/s; otherwise 2MiB/s",
			want: Schedule{{Days: days(1, 2, 3, 4, 5), From: 8 * 60, To: 18 * 60, Limit: 300 << 10}}, otherwise: 2 << 20, ok: true},
		{in: "Mon-Fri 08:00-18:00 300KiB/s, Otherwise 2MiB/s",
			want: Schedule{{Days: days(1, 2, 3, 4, 5), From: 8 * 60, To: 18 * 60, Limit: 300 << 10}}, otherwise: 2 << 20, ok: true},
		{in: "daily 00:00-24:00 1MiB/s", want: Schedule{{Days: week, From: 0, To: 24 * 60, Limit: 1 << 20}}},
		{in: "* 12:30-13:15 pause", want: Schedule{{Days: week, From: 12*60 + 30, To: 13*60 + 15, Pause: true}}},
		{in: "Sat,Sun 10:00-12:00 paused\nmon 01:00-02:00 1k",
			want: Schedule{{Days: days(6, 0), From: 600, To: 720, Pause: true}, {Days: days(1), From: 60, To: 120, Limit: 1 << 10}}},
		// A range may wrap past Sunday, and lists may mix ranges and days.
		{in: "Fri-Mon 00:00-24:00 1MiB/s", want: Schedule{{Days: days(5, 6, 0, 1), From: 0, To: 1440, Limit: 1 << 20}}},
		{in: "Mon-Wed,Fri 09:00-10:00 1MiB/s", want: Schedule{{Days: days(1, 2, 3, 5), From: 540, To: 600, Limit: 1 << 20}}},
		// Overnight windows are supported: To <= From wraps past midnight.
		{in: "Mon-Fri 22:00-06:00 unlimited", want: Schedule{{Days: days(1, 2, 3, 4, 5), From: 22 * 60, To: 6 * 60, Limit: Unlimited}}},

		{in: "Funday 08:00-18:00 1MiB/s", err: `day "funday"`},
		{in: "Mon-Xyz 08:00-18:00 1MiB/s", err: `day "xyz"`},
		{in: "Mon, 08:00-18:00 1MiB/s", err: `schedule day ""`},
		{in: "Mon 08:00 1MiB/s", err: "HH:MM-HH:MM"},
		{in: "Mon 8-18 1MiB/s", err: "HH:MM"},
		{in: "Mon 25:00-26:00 1MiB/s", err: `time "25:00"`},
		{in: "Mon 24:30-23:00 1MiB/s", err: `time "24:30"`},
		{in: "Mon 08:60-09:00 1MiB/s", err: `time "08:60"`},
		{in: "Mon 08:00-18:00 fast", err: `rate "fast"`},
		{in: "Mon 08:00-18:00", err: "DAYS HH:MM-HH:MM RATE"},
		{in: "Mon 08:00-18:00 1MiB/s; otherwise", err: "otherwise RATE"},
		{in: "otherwise slow", err: `rate "slow"`},
	} {
		sch, otherwise, ok, err := ParseTimetable(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseTimetable(%q): error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTimetable(%q): %v", c.in, err)
			continue
		}
		if !equalSchedules(sch, c.want) || otherwise != c.otherwise || ok != c.ok {
			t.Errorf("ParseTimetable(%q) = %+v, %d, %v; want %+v, %d, %v", c.in, sch, otherwise, ok, c.want, c.otherwise, c.ok)
		}
		// ParseSchedule is the same without the "otherwise" rate.
		if s2, err := ParseSchedule(c.in); err != nil || !equalSchedules(s2, c.want) {
			t.Errorf("ParseSchedule(%q) = %+v, %v", c.in, s2, err)
		}
	}
}

func equalSchedules(a, b Schedule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestScheduleAt walks a timetable through the week, including an
// overnight window that crosses from Friday into Saturday and from Sunday
// into Monday.
func TestScheduleAt(t *testing.T) {
	sch, err := ParseSchedule("Mon-Fri 08:00-18:00 300KiB/s; Sun 22:00-06:00 pause; Fri 20:00-02:00 1MiB/s; daily 12:00-13:00 2MiB/s")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-02 is a Monday.
	at := func(day time.Weekday, hhmm string) time.Time {
		tm, err := time.ParseInLocation("15:04", hhmm, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 3, 1+int(day), tm.Hour(), tm.Minute(), 59, 0, time.Local)
	}
	const (
		none  = -1
		pause = -2
	)
	for _, c := range []struct {
		day  time.Weekday
		hhmm string
		want int64
	}{
		{time.Monday, "07:59", none},
		{time.Monday, "08:00", 300 << 10},
		{time.Wednesday, "12:30", 300 << 10}, // the first matching rule wins over "daily 12:00-13:00"
		{time.Friday, "17:59", 300 << 10},
		{time.Friday, "18:00", none}, // To is exclusive
		{time.Friday, "19:59", none},
		{time.Friday, "20:00", 1 << 20},
		{time.Friday, "23:59", 1 << 20},
		{time.Saturday, "00:00", 1 << 20}, // Friday's window runs into Saturday morning
		{time.Saturday, "01:59", 1 << 20},
		{time.Saturday, "02:00", none},
		{time.Saturday, "12:00", 2 << 20},
		{time.Saturday, "20:00", none}, // only Friday evenings
		{time.Sunday, "01:00", none},   // Saturday has no overnight rule
		{time.Sunday, "21:59", none},
		{time.Sunday, "22:00", pause},
		{time.Monday + 7, "05:59", pause}, // Sunday's window runs into Monday morning
		{time.Monday, "05:59", pause},     // and the Monday at the start of the week is the same weekday
		{time.Monday, "06:00", none},
		{time.Thursday, "03:00", none},
	} {
		tm := at(c.day, c.hhmm)
		r, ok := sch.At(tm)
		got := int64(none)
		switch {
		case ok && r.Pause:
			got = pause
		case ok:
			got = r.Limit
		}
		if got != c.want {
			t.Errorf("%s %s: got %d, want %d (-1 none, -2 pause)", tm.Weekday(), c.hhmm, got, c.want)
		}
	}
	if _, ok := Schedule(nil).At(at(time.Monday, "09:00")); ok {
		t.Error("an empty timetable has a rule")
	}
}
