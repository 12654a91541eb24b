package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

func printTable(w io.Writer, c config, scens []*scenario, clients []restorer, many *measure) {
	fmt.Fprintf(w, "\nrestorebench: from versitygw on loopback, the remote %s, to %s; medians of %d rounds (client order rotated)\n\n", c.remote, c.dir, c.rounds)
	fmt.Fprintln(w, "| objects | client | MiB/s | objects/s | MiB/s incl. sync | CPU s | peak RSS MiB | s per round | load (1 min) per round |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, sc := range scens {
		for _, cl := range clients {
			ms := sc.results[cl.name]
			if len(ms) == 0 {
				continue
			}
			var mbps, ops, synced, cpu []float64
			var rss []int64
			var secs, loads string
			for i, m := range ms {
				mbps = append(mbps, m.mibps(m.elapsed))
				synced = append(synced, m.mibps(m.synced))
				ops = append(ops, m.objps())
				cpu = append(cpu, m.cpu.Seconds())
				rss = append(rss, m.rssKiB)
				if i > 0 {
					secs, loads = secs+", ", loads+", "
				}
				secs += fmt.Sprintf("%.1f", m.elapsed.Seconds())
				loads += firstField(m.load)
			}
			fmt.Fprintf(w, "| %s (%s) | %s | %.1f | %s | %.1f | %.1f | %.1f (max %.1f) | %s | %s |\n",
				sc.name, mib(sc.bytes), cl.name, benchkit.Median(mbps), rate(benchkit.Median(ops)), benchkit.Median(synced),
				benchkit.Median(cpu), float64(benchkit.MedianInt(rss))/1024, float64(slices.Max(rss))/1024, secs, loads)
		}
	}
	if many != nil {
		fmt.Fprintf(w, "\n`gateway restore` of %d objects: %s, peak RSS %.1f MiB\n", many.objects, many.elapsed.Round(time.Millisecond), float64(many.rssKiB)/1024)
	}
}

// rate prints a rate with a decimal when it is small.
func rate(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func firstField(s string) string {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}
