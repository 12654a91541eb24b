package benchkit

import (
	"os"
	"strings"
)

// CleanEnv is the environment without variables that start with prefixes
// (AWS_CA_BUNDLE points at a proxy's CA that loopback runs must not use).
func CleanEnv(prefixes ...string) []string {
	var out []string
next:
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
