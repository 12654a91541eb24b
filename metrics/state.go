package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State is what the daemon's components hold at one moment, read at each
// scrape. A nil part (its component is off, or could not be read) leaves its
// metrics out of that scrape rather than reporting zeros that look true.
type State struct {
	Archive     *ArchiveState
	Replication *ReplicationState
	Disk        *DiskState
	Drop        *DropState
	Cache       *CacheState
}

// CacheState is the disk as a cache of the remote (cache.Cache.Stats).
type CacheState struct {
	// CapacityBytes is 0 without store.capacity.
	CapacityBytes, UsedBytes                                              int64
	EvictableBytes, PinnedBytes, NotOffsiteBytes, RemoteOnlyBytes         int64
	Hits, Misses, ReadThroughBytes, EvictedObjects, EvictedBytes, Refused int64
	Refusing                                                              bool
}

// ArchiveState comes from the journal's running totals (queue.Node.Stats
// and Offsite): no object is visited.
type ArchiveState struct {
	Objects int64 // object versions in the index
	Bytes   int64 // their sizes summed
	Jobs    int64 // replication jobs: waiting, in flight, failing, quarantined
	// PendingObjects and PendingBytes are the objects not yet offsite.
	PendingObjects, PendingBytes int64
	OldestPending                time.Time // zero when nothing is pending
	LastReplicated               time.Time // zero when unknown
}

// ReplicationState comes from the replicator's status.
type ReplicationState struct {
	Paused      bool // by an operator, or on an error only a human can fix
	Quarantined int64
	// SentBytes counts body bytes handed to the network since the start,
	// parts sent again included.
	SentBytes int64
	// RecentRate is SentBytes' average rate over the last few minutes.
	RecentRate                         float64
	ReplicatedObjects, ReplicatedBytes int64 // since the start
}

// DiskState is the file system that holds the data directory.
type DiskState struct {
	TotalBytes, FreeBytes int64
}

// DropState comes from the drop-folder watcher's running totals.
type DropState struct {
	Ingested  int64 // files archived as a new object version
	Unchanged int64 // files read again whose content was already archived
	Skipped   int64 // files not archived: links, sockets, devices, bad names
	Errors    int64 // failed attempts (each is retried)
	Pending   int64 // files waiting to be quiet or ingested
}

// stateCollector turns a State into metrics at scrape time.
type stateCollector struct {
	state func() State
	now   func() time.Time
	descs map[string]*prometheus.Desc
}

var _ prometheus.Collector = (*stateCollector)(nil)

// stateMetrics are the metrics read from State: name, help.
var stateMetrics = [][2]string{
	{"store_objects", "Object versions in the archive's index."},
	{"store_bytes", "Bytes of the object versions in the archive's index."},
	{"store_disk_size_bytes", "Size of the file system that holds the data directory."},
	{"store_disk_free_bytes", "Bytes free on that file system for the daemon."},
	{"replication_queue_jobs", "Replication jobs in the journal: waiting, in flight, failing or quarantined."},
	{"replication_pending_objects", "Object versions not yet on the remote."},
	{"replication_pending_bytes", "Bytes of the object versions not yet on the remote."},
	{"replication_oldest_pending_age_seconds", "Age of the oldest object version not yet on the remote; 0 when all are."},
	{"replication_last_replicated_timestamp_seconds", "When the remote last confirmed an upload (Unix time)."},
	{"replication_paused", "1 while replication is paused: by an operator, or on an error only a human can fix."},
	{"replication_quarantined_jobs", "Jobs set aside until an operator intervenes."},
	{"replication_sent_bytes_total", "Body bytes sent to the remote since the start, parts sent again included."},
	{"replication_upload_rate_bytes_per_second", "Upload rate to the remote, averaged over the last few minutes."},
	{"replication_replicated_objects_total", "Jobs completed on the remote since the start."},
	{"replication_replicated_bytes_total", "Bytes of the objects uploaded since the start."},
	{"drop_files_ingested_total", "Drop-folder files archived as a new object version since the start."},
	{"drop_files_unchanged_total", "Drop-folder files read again whose content was already archived."},
	{"drop_files_skipped_total", "Drop-folder files not archived: links, sockets, devices, names that are not keys."},
	{"drop_errors_total", "Failed attempts to ingest a drop-folder file (each is retried)."},
	{"drop_files_pending", "Drop-folder files waiting to be quiet or ingested."},
	{"cache_capacity_bytes", "store.capacity in bytes; 0 when no capacity is set."},
	{"cache_used_bytes", "Bytes used on the data directory's file system, as the capacity counts them."},
	{"cache_evictable_bytes", "Bytes of local objects verified offsite, which eviction may free."},
	{"cache_pinned_bytes", "Bytes of local objects kept by store.keep_local."},
	{"cache_not_offsite_bytes", "Bytes of local objects not verified offsite yet."},
	{"cache_remote_only_bytes", "Bytes of objects whose bytes are on the remote only (evicted or restored without their bytes)."},
	{"cache_hits_total", "Reads of objects whose bytes were local."},
	{"cache_misses_total", "Reads of objects read through from the remote."},
	{"cache_read_through_bytes_total", "Bytes read through from the remote."},
	{"cache_evicted_objects_total", "Objects evicted since the start."},
	{"cache_evicted_bytes_total", "Bytes of the objects evicted since the start."},
	{"cache_refused_writes_total", "Writes refused (507) because the capacity is full of data not offsite."},
	{"cache_refusing_writes", "1 while writes are refused because the capacity is full of data not offsite."},
}

func newStateCollector(state func() State) *stateCollector {
	c := &stateCollector{state: state, now: time.Now, descs: map[string]*prometheus.Desc{}}
	for _, m := range stateMetrics {
		c.descs[m[0]] = prometheus.NewDesc(Namespace+"_"+m[0], m[1], nil, nil)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	gauge := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v)
	}
	counter := func(name string, v int64) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v))
	}
	if a := s.Archive; a != nil {
		gauge("store_objects", float64(a.Objects))
		gauge("store_bytes", float64(a.Bytes))
		gauge("replication_queue_jobs", float64(a.Jobs))
		gauge("replication_pending_objects", float64(a.PendingObjects))
		gauge("replication_pending_bytes", float64(a.PendingBytes))
		age := 0.0
		if !a.OldestPending.IsZero() {
			age = max(0, c.now().Sub(a.OldestPending).Seconds())
		}
		gauge("replication_oldest_pending_age_seconds", age)
		if !a.LastReplicated.IsZero() {
			gauge("replication_last_replicated_timestamp_seconds", float64(a.LastReplicated.UnixNano())/1e9)
		}
	}
	if d := s.Disk; d != nil {
		gauge("store_disk_size_bytes", float64(d.TotalBytes))
		gauge("store_disk_free_bytes", float64(d.FreeBytes))
	}
	if r := s.Replication; r != nil {
		paused := 0.0
		if r.Paused {
			paused = 1
		}
		gauge("replication_paused", paused)
		gauge("replication_quarantined_jobs", float64(r.Quarantined))
		counter("replication_sent_bytes_total", r.SentBytes)
		gauge("replication_upload_rate_bytes_per_second", r.RecentRate)
		counter("replication_replicated_objects_total", r.ReplicatedObjects)
		counter("replication_replicated_bytes_total", r.ReplicatedBytes)
	}
	if d := s.Drop; d != nil {
		counter("drop_files_ingested_total", d.Ingested)
		counter("drop_files_unchanged_total", d.Unchanged)
		counter("drop_files_skipped_total", d.Skipped)
		counter("drop_errors_total", d.Errors)
		gauge("drop_files_pending", float64(d.Pending))
	}
	if k := s.Cache; k != nil {
		gauge("cache_capacity_bytes", float64(k.CapacityBytes))
		gauge("cache_used_bytes", float64(k.UsedBytes))
		gauge("cache_evictable_bytes", float64(k.EvictableBytes))
		gauge("cache_pinned_bytes", float64(k.PinnedBytes))
		gauge("cache_not_offsite_bytes", float64(k.NotOffsiteBytes))
		gauge("cache_remote_only_bytes", float64(k.RemoteOnlyBytes))
		counter("cache_hits_total", k.Hits)
		counter("cache_misses_total", k.Misses)
		counter("cache_read_through_bytes_total", k.ReadThroughBytes)
		counter("cache_evicted_objects_total", k.EvictedObjects)
		counter("cache_evicted_bytes_total", k.EvictedBytes)
		counter("cache_refused_writes_total", k.Refused)
		refusing := 0.0
		if k.Refusing {
			refusing = 1
		}
		gauge("cache_refusing_writes", refusing)
	}
}
