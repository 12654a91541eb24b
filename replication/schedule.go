package replication

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Unlimited is the rate that means no limit.
const Unlimited int64 = 0

// Schedule is a weekly timetable of upload limits. The first rule that
// covers a moment wins; outside every rule the Bandwidth's base limit applies.
type Schedule []Rule

// Rule limits uploads on some weekdays between two times of day (local time).
type Rule struct {
	Days     [7]bool // indexed by time.Weekday
	From, To int     // minutes since midnight; To <= From wraps past midnight
	Limit    int64   // bytes/s; Unlimited for none
	Pause    bool    // no uploads at all
}

// At returns the rule covering t, if any.
func (s Schedule) At(t time.Time) (Rule, bool) {
	m := t.Hour()*60 + t.Minute()
	wd := t.Weekday()
	for _, r := range s {
		if r.From < r.To {
			if r.Days[wd] && m >= r.From && m < r.To {
				return r, true
			}
			continue
		}
		// Wraps midnight: the evening belongs to the listed day, the morning to the day after.
		if (r.Days[wd] && m >= r.From) || (r.Days[(wd+6)%7] && m < r.To) {
			return r, true
		}
	}
	return Rule{}, false
}

// otherwiseClause finds ", otherwise" (any case) to make it a clause of its own.
var otherwiseClause = regexp.MustCompile(`(?i),\s*(otherwise\b)`)

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseSchedule parses rules separated by ";" or newlines, each
// "DAYS HH:MM-HH:MM RATE", where DAYS is "Mon-Fri", "Sat,Sun", "daily" or
// "*", and RATE is a rate (ParseRate) or "pause". A trailing clause
// "otherwise RATE" is accepted and ignored by ParseSchedule: the caller sets
// the base limit (see ParseTimetable).
func ParseSchedule(s string) (Schedule, error) {
	sch, _, _, err := ParseTimetable(s)
	return sch, err
}

// ParseTimetable parses a schedule as ParseSchedule does and also returns
// the "otherwise" rate, with ok false when there is no such clause. Example:
// "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited".
func ParseTimetable(s string) (sch Schedule, otherwise int64, ok bool, err error) {
	s = otherwiseClause.ReplaceAllString(strings.ReplaceAll(s, "\n", ";"), ";$1")
	for _, clause := range strings.Split(s, ";") {
		f := strings.Fields(clause)
		if len(f) == 0 {
			continue
		}
		if strings.EqualFold(f[0], "otherwise") {
			if len(f) != 2 {
				return nil, 0, false, fmt.Errorf("replication: schedule %q: write \"otherwise RATE\"", clause)
			}
			if otherwise, err = ParseRate(f[1]); err != nil {
				return nil, 0, false, err
			}
			ok = true
			continue
		}
		if len(f) != 3 {
			return nil, 0, false, fmt.Errorf("replication: schedule rule %q: want \"DAYS HH:MM-HH:MM RATE\", e.g. \"Mon-Fri 08:00-18:00 300KiB/s\"", strings.TrimSpace(clause))
		}
		var r Rule
		if r.Days, err = parseDays(f[0]); err != nil {
			return nil, 0, false, err
		}
		from, to, found := strings.Cut(f[1], "-")
		if !found {
			return nil, 0, false, fmt.Errorf("replication: schedule rule %q: times must be HH:MM-HH:MM", clause)
		}
		if r.From, err = parseClock(from); err != nil {
			return nil, 0, false, err
		}
		if r.To, err = parseClock(to); err != nil {
			return nil, 0, false, err
		}
		if strings.EqualFold(f[2], "pause") || strings.EqualFold(f[2], "paused") {
			r.Pause = true
		} else if r.Limit, err = ParseRate(f[2]); err != nil {
			return nil, 0, false, err
		}
		sch = append(sch, r)
	}
	return sch, otherwise, ok, nil
}

func parseDays(s string) ([7]bool, error) {
	var d [7]bool
	ls := strings.ToLower(s)
	if ls == "*" || ls == "daily" {
		return [7]bool{true, true, true, true, true, true, true}, nil
	}
	for _, part := range strings.Split(ls, ",") {
		a, b, isRange := strings.Cut(part, "-")
		wa, ok := dayNames[a]
		if !ok {
			return d, fmt.Errorf("replication: schedule day %q: use Mon, Tue, Wed, Thu, Fri, Sat, Sun", a)
		}
		if !isRange {
			d[wa] = true
			continue
		}
		wb, ok := dayNames[b]
		if !ok {
			return d, fmt.Errorf("replication: schedule day %q: use Mon, Tue, Wed, Thu, Fri, Sat, Sun", b)
		}
		for w := wa; ; w = (w + 1) % 7 {
			d[w] = true
			if w == wb {
				break
			}
		}
	}
	return d, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("replication: schedule time %q: use HH:MM, 00:00 to 24:00", s)
	}
	return hh*60 + mm, nil
}

var rateUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1},
}

// ParseRate parses "300KiB/s", "1.5MB/s", "600000" (bytes/s) or
// "unlimited" (Unlimited).
func ParseRate(s string) (int64, error) {
	ls := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "/s")
	if ls == "unlimited" || ls == "none" || ls == "off" {
		return Unlimited, nil
	}
	mult := int64(1)
	for _, u := range rateUnits {
		if strings.HasSuffix(ls, u.suffix) {
			mult, ls = u.mult, strings.TrimSuffix(ls, u.suffix)
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(ls), 64)
	// Reject what does not fit an int64 ("inf", "1e30GiB") and what rounds
	// to 0 bytes/s, which would read as Unlimited.
	bytes := v * float64(mult)
	if err != nil || !(bytes >= 1 && bytes < math.MaxInt64) {
		return 0, fmt.Errorf("replication: rate %q: write a positive size per second like 300KiB/s or 2MB/s, or unlimited", s)
	}
	return int64(bytes), nil
}
