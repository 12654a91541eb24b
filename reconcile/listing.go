package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipas/ipas/queue"
)

// localListing walks one bucket of the index in key order, a page at a time.
type localListing struct {
	index  Index
	bucket string
	page   []queue.Object
	more   bool
	after  string
	read   bool // the first page was read
}

func (l *localListing) next() (queue.Object, bool, error) {
	for len(l.page) == 0 {
		if l.read && !l.more {
			return queue.Object{}, false, nil
		}
		page, more, err := l.index.ListObjects(l.bucket, "", l.after, pageSize)
		if err != nil {
			return queue.Object{}, false, fmt.Errorf("reconcile: list local bucket %s: %w", l.bucket, err)
		}
		l.page, l.more, l.read = page, more && len(page) > 0, true
		if len(page) > 0 {
			l.after = page[len(page)-1].Key
		}
	}
	o := l.page[0]
	l.page[0] = queue.Object{} // let the page's objects go as they are used
	l.page = l.page[1:]
	return o, true, nil
}

// remoteListing walks the remote objects under prefix in byte order, a LIST
// page at a time, and checks that the remote keeps that order: the merge
// with the index depends on it.
type remoteListing struct {
	remote Remote
	prefix string
	res    *Result
	onPage func()
	page   []Entry
	more   bool
	read   bool
	last   string // the last name returned
}

func (l *remoteListing) next(ctx context.Context) (Entry, bool, error) {
	for len(l.page) == 0 {
		if l.read && !l.more {
			return Entry{}, false, nil
		}
		if err := ctx.Err(); err != nil {
			return Entry{}, false, fmt.Errorf("reconcile: list %s: %w", l.prefix, err)
		}
		page, more, err := l.remote.ListObjects(ctx, l.prefix, l.last)
		l.res.ListRequests++
		if err != nil {
			return Entry{}, false, fmt.Errorf("reconcile: list the remote's %s: %w", l.prefix, err)
		}
		l.page, l.more, l.read = page, more && len(page) > 0, true
		if l.onPage != nil {
			l.onPage()
		}
	}
	e := l.page[0]
	l.page = l.page[1:]
	if !strings.HasPrefix(e.Name, l.prefix) || (l.last != "" && e.Name <= l.last) {
		return Entry{}, false, fmt.Errorf("reconcile: the remote listed %q after %q under %q: its listing is not in byte order, "+
			"so it cannot be compared with the index; use an S3 service that lists keys in UTF-8 byte order, as S3 does", e.Name, l.last, l.prefix)
	}
	l.last = e.Name
	return e, true, nil
}
