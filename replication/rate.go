package replication

import "time"

// Defaults of the recent upload rate that status turns into an ETA.
const (
	// rateWindow is how far back the recent rate looks.
	rateWindow = 5 * time.Minute
	// rateMinSpan is the shortest stretch a rate is computed over: a rate
	// from a second of sending says little about the next hour.
	rateMinSpan = 5 * time.Second
	// rateSampleEvery is the spacing of the samples kept.
	rateSampleEvery = time.Second
	// statusMinSpan is the shortest stretch of the rates status shows.
	statusMinSpan = 2 * rateSampleEvery
)

// rateMeter turns a running byte count into the average rate over the last
// rateWindow: it keeps one sample of the count per second, dropping those
// older than the window, so its memory is bounded whatever the traffic.
type rateMeter struct {
	samples []rateSample // oldest first
}

type rateSample struct {
	at    time.Time
	total int64
}

// add records that total bytes had been counted at now.
func (m *rateMeter) add(now time.Time, total int64) {
	if n := len(m.samples); n > 0 && now.Sub(m.samples[n-1].at) < rateSampleEvery {
		return
	}
	m.trim(now)
	m.samples = append(m.samples, rateSample{at: now, total: total})
}

func (m *rateMeter) trim(now time.Time) {
	i := 0
	for i < len(m.samples) && now.Sub(m.samples[i].at) > rateWindow {
		i++
	}
	if i > 0 {
		m.samples = append(m.samples[:0], m.samples[i:]...)
	}
}

// rate is bytes per second from the oldest sample in the window to now,
// when total is the count now; 0 when the window holds no sample at least
// rateMinSpan old (nothing sent recently).
func (m *rateMeter) rate(now time.Time, total int64) float64 {
	return m.rateOver(now, total, rateMinSpan)
}

// rateOver is rate with a shorter (or longer) shortest stretch: a rate of
// what is under way, for status, rather than one to plan with.
func (m *rateMeter) rateOver(now time.Time, total int64, minSpan time.Duration) float64 {
	m.trim(now)
	if len(m.samples) == 0 {
		return 0
	}
	first := m.samples[0]
	span := now.Sub(first.at)
	if span < minSpan {
		return 0
	}
	return float64(total-first.total) / span.Seconds()
}
