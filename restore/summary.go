package restore

import (
	"fmt"
	"io"
	"strings"

	"github.com/ipas/ipas/internal/humanize"
)

// WriteSummary prints what the restore did: restored, skipped and failed,
// each failure with its reason and fix.
func (r Result) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "restore: %d restored (%s), %d skipped, %d failed; %s downloaded",
		r.Restored, humanize.Bytes(r.RestoredBytes), r.Skipped, r.Failed, humanize.Bytes(r.Fetched))
	if r.Heads > 0 {
		fmt.Fprintf(w, ", %d HEAD requests", r.Heads)
	}
	fmt.Fprintln(w)
	if r.Lacking > 0 {
		fmt.Fprintf(w, "%d restored object(s) lack metadata their remote copy could not hold (S3's 2 KiB limit): see \"lacking\" in the JSON lines\n", r.Lacking)
	}
	if r.RemoteOnly > 0 {
		fmt.Fprintf(w, "%d restored object(s) (%s) have their bytes on the remote only (--metadata-only): the daemon lists and HEADs them, "+
			"and a GET reads them through from the remote (header X-Ipas-Cached: false), storing each locally again as it is read "+
			"(store.cache_on_read). To fetch every byte now instead, with the gateway stopped: "+
			"gateway restore --merge [--bucket B [--prefix P]]\n", r.RemoteOnly, humanize.Bytes(r.RemoteOnlyBytes))
	}
	if r.Source != "" {
		fmt.Fprintf(w, "object list: %s\n", r.Source)
	}
	if !r.UsedSnapshot && len(r.VersionedBuckets) > 0 {
		fmt.Fprintf(w, "without the remote index: the versions kept on the remote (under .ipas/versions/, or the remote's own versions) "+
			"were restored as noncurrent versions of %s, now with versioning Enabled; delete markers are not kept on the remote, "+
			"so keys deleted on the Pi are current again\n", strings.Join(r.VersionedBuckets, ", "))
	}
	switch {
	case len(r.Users) > 0 && r.Keys == 0:
		fmt.Fprintf(w, "users restored (with their buckets and policies, without access keys): %s; "+
			"give each a new key with `gateway key add USER` once the daemon runs\n", strings.Join(r.Users, ", "))
	case len(r.Users) > 0:
		fmt.Fprintf(w, "users restored (with their buckets and policies): %s\n", strings.Join(r.Users, ", "))
	}
	if r.Keys > 0 {
		fmt.Fprintf(w, "access keys restored: %d, with their secrets (opened with the passphrase, sealed again with this data directory's users.key): they work again as before\n", r.Keys)
	}
	if r.KeysNote != "" {
		fmt.Fprintf(w, "access keys: %s\n", r.KeysNote)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  FAILED %s: %s\n", f.Name, f.Reason)
		if f.Fix != "" {
			fmt.Fprintf(w, "    fix: %s\n", f.Fix)
		}
	}
	if n := r.Failed - int64(len(r.Failures)); n > 0 {
		fmt.Fprintf(w, "  ... and %d more failures (one JSON line each with --json)\n", n)
	}
}
