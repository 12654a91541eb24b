package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

func printTable(w io.Writer, c config, scens []*scenario, clients []uploader, rss *transfer) {
	for _, sc := range scens {
		fmt.Fprintf(w, "\n%s through a shared %s cap (medians; %d uninterrupted, %d interrupted rounds)\n\n",
			mib(sc.size), rateStr(sc.capBytes), c.rounds, c.interrupted)
		fmt.Fprintln(w, "| client | goodput | % of cap | sent, uninterrupted | sent, killed at 50% + restart | of which after the restart |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, u := range clients {
			r := sc.results[u.name]
			if r == nil {
				continue
			}
			g := benchkit.Median(r.goodput)
			fmt.Fprintf(w, "| %s | %s | %.1f%% | %s | %s | %s |\n", u.name, rateStr(int64(g)), 100*g/float64(sc.capBytes),
				sentStr(benchkit.MedianInt(r.sent), sc.size), sentStr(benchkit.MedianInt(r.sentKilled), sc.size), sentStr(benchkit.MedianInt(r.sentRestart), sc.size))
		}
		if r := sc.results["ipas"]; r != nil && len(r.hwmKiB) > 0 {
			fmt.Fprintf(w, "\nipas child peak RSS in these runs: median %.1f MiB, max %.1f MiB\n",
				float64(benchkit.MedianInt(r.hwmKiB))/1024, float64(slices.Max(r.hwmKiB))/1024)
		}
	}
	if rss != nil {
		fmt.Fprintf(w, "\nipas replicating %s uncapped to versitygw on loopback: peak RSS (VmHWM) %.1f MiB, %s, %s sent\n",
			mib(c.rss), float64(rss.hwmKiB)/1024, rateStr(int64(float64(c.rss)/rss.elapsed.Seconds())), mib(rss.sent))
	}
}

func sentStr(n, size int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%.2fx)", mib(n), float64(n)/float64(size))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func rateStr(bps int64) string {
	if bps < 1<<20 {
		return fmt.Sprintf("%.0f KB/s", float64(bps)/1000)
	}
	return fmt.Sprintf("%.2f MiB/s", float64(bps)/(1<<20))
}
