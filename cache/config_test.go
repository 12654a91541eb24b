package cache

import (
	"strings"
	"testing"
)

func TestParseCapacity(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  Capacity
		total int64 // of a file system of 1,000,000 bytes
		bad   string
	}{
		{in: "", want: Capacity{}},
		{in: "0", want: Capacity{}},
		{in: "85%", want: Capacity{Share: 0.85}, total: 850_000},
		{in: " 100 % ", want: Capacity{Share: 1}, total: 1_000_000},
		{in: "500GB", want: Capacity{Bytes: 500e9}, total: 500e9},
		{in: "200MiB", want: Capacity{Bytes: 200 << 20}, total: 200 << 20},
		{in: "1.5TiB", want: Capacity{Bytes: 3 << 39}, total: 3 << 39},
		{in: "4096", want: Capacity{Bytes: 4096}, total: 4096},
		{in: "0%", bad: "percentage"},
		{in: "101%", bad: "percentage"},
		{in: "lots", bad: "neither a size"},
		{in: "-5GB", bad: "neither a size"},
	} {
		got, err := ParseCapacity(tc.in)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("ParseCapacity(%q): %v, want an error saying %q", tc.in, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseCapacity(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if n := got.Of(1_000_000); tc.total != 0 && n != tc.total {
			t.Errorf("ParseCapacity(%q).Of(1e6) = %d, want %d", tc.in, n, tc.total)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		bad  string
	}{
		{"defaults", func(*Config) {}, ""},
		{"low above high", func(c *Config) { c.LowWater, c.HighWater = 0.9, 0.8 }, "water marks"},
		{"high above 1", func(c *Config) { c.HighWater = 1.2 }, "water marks"},
		{"low zero", func(c *Config) { c.LowWater = 0 }, "water marks"},
		{"keep_local absolute", func(c *Config) { c.KeepLocal = []string{"/photos"} }, "keep_local"},
		{"keep_local empty", func(c *Config) { c.KeepLocal = []string{""} }, "keep_local"},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		err := cfg.Validate()
		if (tc.bad == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("%s: Validate() = %v, want an error saying %q", tc.name, err, tc.bad)
		}
	}
}

func TestKept(t *testing.T) {
	cfg := Config{KeepLocal: []string{"photos/2024/", "docs"}}
	for _, tc := range []struct {
		bucket, key string
		want        bool
	}{
		{"photos", "2024/a.jpg", true},
		{"photos", "2023/a.jpg", false},
		{"docs", "anything", true},
		{"docsx", "anything", false},
		{"other", "photos/2024/a.jpg", false},
	} {
		if got := cfg.kept(tc.bucket, tc.key); got != tc.want {
			t.Errorf("kept(%s, %s) = %v, want %v", tc.bucket, tc.key, got, tc.want)
		}
	}
}
