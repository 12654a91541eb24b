package cache

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults of Config.
const (
	// DefaultHighWater and DefaultLowWater are the water marks as shares of
	// the capacity: eviction starts above the high mark and stops at the low.
	DefaultHighWater = 0.90
	DefaultLowWater  = 0.80
	// DefaultInterval is how often the evictor looks at the disk when it is
	// below the high mark; above it, or while writes are refused, it looks
	// every BusyInterval.
	DefaultInterval     = time.Minute
	DefaultBusyInterval = 5 * time.Second
	// DefaultAccessFlushInterval is how often the last reads are written to
	// the access file.
	DefaultAccessFlushInterval = 5 * time.Minute
	// DefaultAdmitWait bounds how long a write that does not fit waits for
	// eviction to make room before it is answered SlowDown.
	DefaultAdmitWait = 10 * time.Second
	// usageMaxAge is how long a statfs result serves admissions.
	usageMaxAge = 100 * time.Millisecond
	// evictBatch is how many objects one journal proposal evicts.
	evictBatch = 256
	// listPage is how many index entries a pass reads at a time.
	listPage = 1000
)

// Config is the capacity and its policy.
type Config struct {
	// Capacity is the most the data directory's file system may hold:
	// Bytes, or Share of its size. Zero turns the cache off: nothing is
	// evicted and writes are refused only by a full disk.
	Capacity Capacity
	// HighWater and LowWater are shares of Capacity (0 < low < high <= 1).
	HighWater, LowWater float64
	// KeepLocal are buckets ("photos") or prefixes ("photos/2024/") whose
	// objects are never evicted.
	KeepLocal []string
	// Interval, BusyInterval, AccessFlushInterval, AdmitWait: see the
	// Default constants.
	Interval, BusyInterval, AccessFlushInterval, AdmitWait time.Duration
}

// DefaultConfig returns a Config with the cache off and every tunable at its
// default.
func DefaultConfig() Config {
	return Config{
		HighWater: DefaultHighWater, LowWater: DefaultLowWater,
		Interval: DefaultInterval, BusyInterval: DefaultBusyInterval,
		AccessFlushInterval: DefaultAccessFlushInterval, AdmitWait: DefaultAdmitWait,
	}
}

// Validate names the first bad field and how to fix it.
func (c Config) Validate() error {
	if !(c.LowWater > 0 && c.LowWater < c.HighWater && c.HighWater <= 1) {
		return fmt.Errorf("cache: water marks low %g, high %g: use 0 < low < high <= 1, e.g. low %g and high %g",
			c.LowWater, c.HighWater, DefaultLowWater, DefaultHighWater)
	}
	if c.Interval <= 0 || c.BusyInterval <= 0 || c.AccessFlushInterval <= 0 || c.AdmitWait < 0 {
		return fmt.Errorf("cache: intervals must be positive")
	}
	for _, p := range c.KeepLocal {
		if p == "" || strings.HasPrefix(p, "/") {
			return fmt.Errorf("cache: keep_local entry %q: write BUCKET or BUCKET/PREFIX", p)
		}
	}
	return nil
}

// Capacity is a limit in bytes, or a share of the file system's size.
type Capacity struct {
	Bytes int64
	Share float64 // 0 < Share <= 1
}

// IsZero reports whether no capacity is set.
func (c Capacity) IsZero() bool { return c.Bytes == 0 && c.Share == 0 }

// Of returns the limit in bytes on a file system of total bytes.
func (c Capacity) Of(total int64) int64 {
	if c.Share > 0 {
		return int64(c.Share * float64(total))
	}
	return c.Bytes
}

func (c Capacity) String() string {
	if c.Share > 0 {
		return strconv.FormatFloat(c.Share*100, 'f', -1, 64) + "%"
	}
	if c.Bytes == 0 {
		return "off"
	}
	return strconv.FormatInt(c.Bytes, 10) + " bytes"
}

// ParseCapacity reads store.capacity: "" or "0" (off), a percentage of the
// file system ("85%"), or a size in bytes with an optional unit (KB, MB,
// GB, TB: powers of 1000; KiB, MiB, GiB, TiB: powers of 1024).
func ParseCapacity(s string) (Capacity, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return Capacity{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 || f > 100 {
			return Capacity{}, fmt.Errorf("%q is not a percentage above 0 and at most 100", s)
		}
		return Capacity{Share: f / 100}, nil
	}
	n, err := parseSize(s)
	if err != nil || n <= 0 {
		return Capacity{}, fmt.Errorf("%q is neither a size (e.g. 500GB, 200MiB) nor a percentage (e.g. 85%%)", s)
	}
	return Capacity{Bytes: n}, nil
}

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
}

func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	for _, su := range sizeUnits {
		if v, ok := strings.CutSuffix(u, su.suffix); ok {
			u, mult = strings.TrimSpace(v), su.mult
			break
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil {
		return 0, err
	}
	return int64(f * mult), nil
}

// kept reports whether bucket/key is under a KeepLocal entry.
func (c Config) kept(bucket, key string) bool {
	for _, p := range c.KeepLocal {
		b, prefix, _ := strings.Cut(p, "/")
		if b == bucket && strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}
