package store

import "context"

// RequestFullPass asks the next Tick to re-evaluate every endpoint.
func (db *DB) RequestFullPass() { db.fullPass.Store(true) }

// Tick does what the passing of time requires: uses up suspension cycles
// for windows that ended, re-evaluates endpoints whose clock thresholds were
// reached, re-evaluates everything if a full pass was requested, and
// records the estate's counts once an hour.
func (db *DB) Tick(ctx context.Context) error {
	if db.fullPass.Swap(false) {
		if err := db.ReevaluateAll(ctx); err != nil {
			db.fullPass.Store(true)
			return err
		}
	}
	if err := db.CountCycles(ctx); err != nil {
		return err
	}
	if _, err := db.ReevaluateDue(ctx); err != nil {
		return err
	}
	_, err := db.RecordHistory(ctx)
	return err
}
