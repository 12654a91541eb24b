package reconcile

import (
	"fmt"

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
