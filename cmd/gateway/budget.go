package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/replication"
)

// The bytes uploaded this month are saved under the data directory, so that a
// restart does not hand a capped ISP plan a fresh budget.
const (
	budgetFileName     = "replication-budget.json"
	budgetSaveInterval = time.Minute
	budgetMonthFormat  = "2006-01"
)

// budgetRecord is the file's content. Month is local time, as the budget's periods are.
type budgetRecord struct {
	Month string    `json:"month"` // e.g. 2026-05
	Used  int64     `json:"used"`  // bytes uploaded in Month
	Saved time.Time `json:"saved"`
}

// budgetFile persists the month's upload count.
type budgetFile struct {
	path string
	log  zerolog.Logger
	mu   sync.Mutex // orders saves: the last one written is the newest count
}

// load returns the bytes already uploaded in now's month; 0 when the file is
// missing or belongs to an earlier month.
func (f *budgetFile) load(now time.Time) (int64, error) {
	raw, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("budget %s: %w", f.path, err)
	}
	var rec budgetRecord
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Used < 0 {
		return 0, fmt.Errorf("budget %s: not a budget file; delete it to count this month from 0", f.path)
	}
	if rec.Month != now.Format(budgetMonthFormat) {
		return 0, nil // a new month: a new budget
	}
	return rec.Used, nil
}

// save writes bw's count for the current month atomically.
func (f *budgetFile) save(bw *replication.Bandwidth) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	before := time.Now()
	used := bw.State().BudgetUsed
	now := time.Now()
	if before.Format(budgetMonthFormat) != now.Format(budgetMonthFormat) {
		return nil // the month turned during the read: the count is ambiguous, the next save is not
	}
	raw, err := json.Marshal(budgetRecord{Month: now.Format(budgetMonthFormat), Used: used, Saved: now.UTC()})
	if err != nil {
		return fmt.Errorf("budget: encode: %w", err)
	}
	if err := writeFileAtomic(f.path, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("budget %s: %w", f.path, err)
	}
	return nil
}

// run saves every budgetSaveInterval until ctx ends; the final save is stop's.
func (f *budgetFile) run(ctx context.Context, bw *replication.Bandwidth) {
	t := time.NewTicker(budgetSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f.save(bw); err != nil {
			f.log.Warn().Err(err).Msg("save the monthly upload count")
		}
	}
}
