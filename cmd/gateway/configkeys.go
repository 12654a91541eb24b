package main

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// A typo in the configuration file is reported with the user's key and the
// section it is in, never with the Go type that yaml.v3 names.

// unknownField is yaml.v3's message for a key that is not in the struct.
var unknownField = regexp.MustCompile(`^(line \d+): field (\S+) not found in type (\S+)$`)

// configSection is one mapping of the configuration file.
type configSection struct {
	path string   // "s3", "drop.folders[]"; "" for the top level
	keys []string // the keys it takes
}

// configSections maps the Go type of each mapping of Config, as yaml.v3
// names it ("main.S3Config"), to its section.
func configSections() map[string]*configSection {
	out := map[string]*configSection{}
	var walk func(t reflect.Type, sec *configSection)
	walk = func(t reflect.Type, sec *configSection) {
		out[t.String()] = sec
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if opts == "inline" {
				walk(ft, sec)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			sec.keys = append(sec.keys, name)
			if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" {
				child := sec.path + "." + name
				if f.Type.Kind() == reflect.Slice {
					child += "[]"
				}
				walk(ft, &configSection{path: strings.TrimPrefix(child, ".")})
			}
		}
	}
	walk(reflect.TypeFor[Config](), &configSection{})
	return out
}

// unknownKeyProblem rewrites yaml.v3's "line 3: field replicaton not found in
// type main.Config" as `line 3: unknown key "replicaton" at the top level;
// did you mean "replication"?`; other messages are returned as they are.
func unknownKeyProblem(msg string) string {
	m := unknownField.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	line, key := m[1], m[2]
	sec, ok := configSections()[m[3]]
	if !ok {
		return fmt.Sprintf("%s: unknown key %q", line, key)
	}
	where := "at the top level"
	if sec.path != "" {
		where = "in " + sec.path
	}
	out := fmt.Sprintf("%s: unknown key %q %s", line, key, where)
	if s := closest(key, sec.keys); s != "" {
		out += fmt.Sprintf("; did you mean %q?", s)
	}
	return out
}

// closest returns the key within two edits of k, if any.
func closest(k string, keys []string) string {
	best, bestD := "", 3
	for _, c := range keys {
		if d := editDistance(strings.ToLower(k), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
