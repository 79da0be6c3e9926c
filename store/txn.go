package store

import (
	"context"
	"database/sql"
	"time"
)

// txn is a write transaction with what re-evaluation needs along the way:
// one clock reading, the settings, the schedules' plans and the counter
// deltas that are written at commit.
type txn struct {
	*sql.Tx
	now      time.Time
	settings Settings
	plans    map[int64]Plan
	delta    map[countKey]int64
}

// update runs fn in a write transaction, then adds the counter deltas and
// commits; nothing of fn is kept if it fails. A transaction that changed no
// row is rolled back instead: the background clock's quiet ticks then leave
// the counters' version, and every cache keyed on it, alone.
func (db *DB) update(ctx context.Context, fn func(*txn) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var before, after int64
	if err := tx.QueryRow(`SELECT total_changes()`).Scan(&before); err != nil {
		return err
	}
	t := &txn{Tx: tx, now: db.now(), settings: db.Settings(), delta: map[countKey]int64{}}
	if err := fn(t); err != nil {
		return classify(err)
	}
	if err := tx.QueryRow(`SELECT total_changes()`).Scan(&after); err != nil {
		return err
	}
	if after == before {
		return nil // nothing written; the deferred rollback ends it
	}
	version, err := flushCounts(tx, t.delta)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return classify(err)
	}
	db.applyCounts(version, t.delta)
	return nil
}

// plan returns the schedule plan for the rules, loading every schedule once
// per transaction (there are few schedules and many endpoints).
func (t *txn) plan(scheduleID int64) (Plan, error) {
	if scheduleID == 0 {
		return Plan{}, nil
	}
	if t.plans == nil {
		all, err := loadSchedules(t.Tx)
		if err != nil {
			return Plan{}, err
		}
		t.plans = make(map[int64]Plan, len(all))
		for i := range all {
			t.plans[all[i].ID] = PlanOf(&all[i])
		}
	}
	return t.plans[scheduleID], nil
}

// count moves an endpoint's contribution to the counters.
func (t *txn) count(keys []countKey, by int64) {
	for _, k := range keys {
		t.delta[k] += by
	}
}
