package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// A part is one thing operators set on an endpoint: its suspension, its
// reboot acknowledgement, its schedule or its own labels. An action keeps
// the part as it was before and after (as JSON) in its audit entry, so that
// Undo can put back exactly what the action changed and leave alone every
// endpoint changed again since.
type part struct {
	read  string // SELECT of the part as one text value, NULL or '' when unset; one ? for the id
	write func(t *txn, id int64, v sql.NullString) error
}

var parts = map[string]part{
	"suspension": {
		read: `SELECT json_object('cycles', cycles_remaining, 'from', from_at, 'until', until_at, 'reason', reason,
			'by', created_by, 'at', created_at, 'counted', counted_to) FROM suspensions WHERE endpoint_id = ?`,
		write: func(t *txn, id int64, v sql.NullString) error {
			if _, err := t.Exec(`DELETE FROM suspensions WHERE endpoint_id = ?`, id); err != nil || !v.Valid {
				return err
			}
			_, err := t.Exec(`INSERT INTO suspensions (endpoint_id, cycles_remaining, from_at, until_at, reason, created_by, created_at, counted_to)
				SELECT ?, j->>'cycles', j->>'from', j->>'until', j->>'reason', j->>'by', j->>'at', j->>'counted' FROM (SELECT json(?) AS j)`, id, v.String)
			return err
		},
	},
	"reboot": {
		read: `SELECT json_object('at', acked_at, 'by', acked_by) FROM reboot_acknowledgements WHERE endpoint_id = ?`,
		write: func(t *txn, id int64, v sql.NullString) error {
			if _, err := t.Exec(`DELETE FROM reboot_acknowledgements WHERE endpoint_id = ?`, id); err != nil || !v.Valid {
				return err
			}
			_, err := t.Exec(`INSERT INTO reboot_acknowledgements (endpoint_id, acked_at, acked_by)
				SELECT ?, j->>'at', j->>'by' FROM (SELECT json(?) AS j)`, id, v.String)
			return err
		},
	},
	"schedule": {
		read: `SELECT CAST(schedule_id AS TEXT) FROM endpoints WHERE id = ?`,
		write: func(t *txn, id int64, v sql.NullString) error {
			var sched any
			if v.Valid {
				var exists bool
				if err := t.QueryRow(`SELECT EXISTS (SELECT 1 FROM schedules WHERE id = ?)`, v.String).Scan(&exists); err != nil {
					return err
				}
				if !exists {
					return errorf(Conflict, "the schedule the endpoints had before was deleted since")
				}
				sched = v.String
			}
			_, err := t.Exec(`UPDATE endpoints SET schedule_id = ? WHERE id = ?`, sched, id)
			return err
		},
	},
	"labels": {
		read: `SELECT manual_labels FROM endpoints WHERE id = ?`,
		write: func(t *txn, id int64, v sql.NullString) error {
			_, err := t.Exec(`UPDATE endpoints SET manual_labels = ? WHERE id = ?`, v, id)
			return err
		},
	},
}

// readPart is the part of one endpoint as it is now.
func (t *txn) readPart(name string, id int64) (sql.NullString, error) {
	var v sql.NullString
	err := t.QueryRow(parts[name].read, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || v.String == "" {
		return sql.NullString{}, nil
	}
	return v, err
}

// Undo reverses the action of an audit entry: every endpoint it changed
// whose part is still as the action left it gets back what it had before;
// those changed again since are left as they are and counted. The undo is
// audited, and an entry is undone at most once.
func (db *DB) Undo(ctx context.Context, actor string, auditID int64) (UndoResult, error) {
	var res UndoResult
	err := db.update(ctx, func(t *txn) error {
		res = UndoResult{}
		var action, summary string
		var undone sql.NullInt64
		err := t.QueryRow(`SELECT action, summary, undone_by FROM audit_log WHERE id = ?`, auditID).Scan(&action, &summary, &undone)
		if errors.Is(err, sql.ErrNoRows) {
			return errorf(NotFound, "audit entry %d does not exist", auditID)
		}
		if err != nil {
			return err
		}
		if undone.Valid {
			return errorf(Conflict, "this action was already undone (audit entry %d)", undone.Int64)
		}
		type saved struct {
			id                   int64
			part                 string
			stateBefore, stateAt sql.NullString
		}
		var targets []saved
		if err := eachRow(t.Tx, `SELECT endpoint_id, part, state_before, state_after FROM audit_targets WHERE audit_id = ? AND part != ''`, func(r *sql.Rows) error {
			var s saved
			if err := r.Scan(&s.id, &s.part, &s.stateBefore, &s.stateAt); err != nil {
				return err
			}
			targets = append(targets, s)
			return nil
		}, auditID); err != nil {
			return err
		}
		if len(targets) == 0 {
			return errorf(Invalid, "this entry cannot be undone: it changed no endpoint's suspension, reboot acknowledgement, schedule or labels")
		}
		byID := make(map[int64]saved, len(targets))
		ids := make([]int64, 0, len(targets))
		for _, s := range targets {
			byID[s.id] = s
			ids = append(ids, s.id)
		}
		existing, err := t.ids(`SELECT id FROM endpoints WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, idList(ids))
		if err != nil {
			return err
		}
		res.Gone = len(ids) - len(existing)
		part := targets[0].part // one action sets one part
		if part == "schedule" { // windows that ended count on the schedule the endpoints have now
			if err := t.countCycles(); err != nil {
				return err
			}
		}
		changes, err := t.change(existing, part, func(t *txn, c *current) (string, string, error) {
			s := byID[c.id]
			now, err := t.readPart(part, c.id)
			if err != nil {
				return "", "", err
			}
			if !samePart(now, s.stateAt) {
				res.Skipped++
				return "", "", nil // changed again since: left alone
			}
			if err := parts[part].write(t, c.id, s.stateBefore); err != nil {
				return "", "", err
			}
			fresh, err := loadCurrent(t.Tx, []int64{c.id})
			if err != nil {
				return "", "", err
			}
			*c = *fresh[c.id]
			return fmt.Sprintf("%s as #%d left it", part, auditID), fmt.Sprintf("%s as before #%d", part, auditID), nil
		})
		if err != nil {
			return err
		}
		res.Restored = len(changes)
		if res.Restored == 0 {
			return errorf(Conflict, "nothing to undo: every endpoint this action changed has been changed again since (%d) or deleted (%d)", res.Skipped, res.Gone)
		}
		id, err := t.auditEntry(actor, "undo", fmt.Sprintf("undid #%d (%s) on %d endpoint(s)", auditID, summary, res.Restored), "", changes)
		if err != nil {
			return err
		}
		_, err = t.Exec(`UPDATE audit_log SET undone_by = ? WHERE id = ?`, id, auditID)
		return err
	})
	return res, err
}

// UndoResult says what an undo put back.
type UndoResult struct {
	Restored int // endpoints given back their earlier state
	Skipped  int // changed again since, left alone
	Gone     int // deleted since
}

// samePart tells whether a part is still as an action left it. The clock
// counts a suspension's cycles down as windows end: that is the same
// suspension, so the counters are left out of the comparison.
func samePart(a, b sql.NullString) bool {
	if a.Valid != b.Valid {
		return false
	}
	var ma, mb map[string]any
	if json.Unmarshal([]byte(a.String), &ma) != nil || json.Unmarshal([]byte(b.String), &mb) != nil {
		return a == b // not JSON: a schedule id or labels
	}
	for _, m := range []map[string]any{ma, mb} {
		delete(m, "cycles")
		delete(m, "counted")
	}
	return reflect.DeepEqual(ma, mb)
}
