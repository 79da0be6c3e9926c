package store

import (
	"context"
	"database/sql"
	"time"
)

// txn is a write transaction with what re-evaluation needs along the way:
// one clock reading, the settings, the schedules' plans, and the endpoints
// as the list sees them after the change, for the read model.
type txn struct {
	*sql.Tx
	db       *DB
	now      time.Time
	settings Settings
	plans    map[int64]Plan
	// schedulesChanged: this transaction changed schedules, so plans are
	// made from what it sees and not kept (a rollback would leave them
	// wrong).
	schedulesChanged bool
	changed          map[int64]*listed
}

// update runs fn in a write transaction, bumps the data version and
// commits, then applies the changed endpoints to the read model: the one
// writer is the one path by which it changes. Nothing of fn is kept if it
// fails. A transaction that changed no row is rolled back instead, so the
// background clock's quiet ticks leave the data version alone.
func (db *DB) update(ctx context.Context, fn func(*txn) error) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var before, after int64
	if err := tx.QueryRow(`SELECT total_changes()`).Scan(&before); err != nil {
		return err
	}
	t := &txn{Tx: tx, db: db, now: db.now(), settings: db.Settings(), changed: map[int64]*listed{}}
	if err := fn(t); err != nil {
		return classify(err)
	}
	if p, ok := ctx.Value(previewKey{}).(*Preview); ok {
		t.preview(p)
		return nil // a preview: the deferred rollback undoes it
	}
	if err := tx.QueryRow(`SELECT total_changes()`).Scan(&after); err != nil {
		return err
	}
	if after == before {
		return nil // nothing written; the deferred rollback ends it
	}
	var version int64
	if err := tx.QueryRow(`UPDATE settings SET value = value + 1 WHERE key = ? RETURNING value`, keyDataVersion).Scan(&version); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return classify(err)
	}
	db.list.applied(version, t.changed)
	return nil
}

// listed records how the list sees an endpoint after evaluate.
func (t *txn) listed(c *current) {
	e := c.listed(t.db.list.schema)
	t.changed[c.id] = &e
}

// listed is how the list sees the endpoint.
func (c *current) listed(s *listSchema) listed {
	codes := make([]Code, len(c.exemptions))
	for i, x := range c.exemptions {
		codes[i] = x.Code
	}
	return s.listedOf(&c.facts, c.manual, c.scheduleID, codes, c.derived.Primary, c.derived.Impact, c.derived.MaxDisk, c.derived.LowDisk, c.derived.Stale,
		unixOrZero(BlockedSince(c.derived.Impact, c.exemptions)))
}

// plan returns the schedule plan for the rules. Plans are absolute times
// (a first start, a last end), so they hold until a schedule changes: they
// are made once and kept by the DB, and a transaction that changes
// schedules drops them (schedulesChanged) for the next one to remake.
func (t *txn) plan(scheduleID int64) (Plan, error) {
	if scheduleID == 0 {
		return Plan{}, nil
	}
	if t.plans == nil {
		if cached := t.db.plans.Load(); cached != nil && !t.schedulesChanged {
			t.plans = *cached
		} else {
			all, err := loadSchedules(t.Tx)
			if err != nil {
				return Plan{}, err
			}
			t.plans = make(map[int64]Plan, len(all))
			for i := range all {
				t.plans[all[i].ID] = PlanOf(&all[i])
			}
			if !t.schedulesChanged { // plans of uncommitted schedules are not kept
				plans := t.plans
				t.db.plans.Store(&plans)
			}
		}
	}
	return t.plans[scheduleID], nil
}

// forgetPlans is called by a transaction that changes schedules.
func (t *txn) forgetPlans() {
	t.plans, t.schedulesChanged = nil, true
	t.db.plans.Store(nil)
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
