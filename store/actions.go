package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Target names the endpoints an action applies to: the listed ids, or every
// endpoint matching a filter of the Servers list.
type Target struct {
	IDs    []int64
	Filter *Filter
	Scope  string // the filter as the list's query string, kept in the audit entry
	// Expect, when not 0, is how many endpoints the person confirming saw
	// match: a filter that matches another number by now is refused rather
	// than acted on.
	Expect int
}

// resolve turns a target into endpoint ids, inside the action's transaction.
func (t *txn) resolve(tg Target) ([]int64, error) {
	if tg.Filter != nil {
		return t.matchingIDs(*tg.Filter)
	}
	if len(tg.IDs) == 0 {
		return nil, errorf(Invalid, "no endpoints were selected")
	}
	ids, err := t.ids(`SELECT id FROM endpoints WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, idList(tg.IDs))
	if err != nil {
		return nil, err
	}
	if len(ids) != len(uniq(tg.IDs)) {
		return nil, errorf(NotFound, "%d of the selected endpoints no longer exist", len(uniq(tg.IDs))-len(ids))
	}
	return ids, nil
}

func uniq(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// SuspendInput suspends for a number of cycles, or between two times.
type SuspendInput struct {
	Cycles      *int // nil: not given
	From, Until *time.Time
	Reason      string
}

// Validate checks the suspension and reports each problem against its field.
// Times are kept to the second, as the database stores them, before they
// are compared: a range shorter than a second is no range.
func (in *SuspendInput) Validate(now time.Time) error {
	in.Reason = strings.TrimSpace(in.Reason)
	in.From, in.Until = toSecond(in.From), toSecond(in.Until)
	var d []FieldError
	byCycles := in.Cycles != nil
	byDates := in.From != nil || in.Until != nil
	switch {
	case byCycles && byDates:
		d = append(d, FieldError{Field: "cycles", Message: "Give either a number of cycles or a start and an end, not both."})
	case byCycles && (*in.Cycles < 1 || *in.Cycles > 100):
		d = append(d, FieldError{Field: "cycles", Message: "Cycles must be a whole number from 1 to 100."})
	case byDates && in.From == nil:
		d = append(d, FieldError{Field: "from", Message: "Give a start as well as the end."})
	case byDates && in.Until == nil:
		d = append(d, FieldError{Field: "until", Message: "Give an end as well as the start."})
	case byDates && !in.Until.After(*in.From):
		d = append(d, FieldError{Field: "until", Message: "End must be after start."})
	case byDates && !in.Until.After(now):
		d = append(d, FieldError{Field: "until", Message: "The end is already in the past."})
	case !byCycles && !byDates:
		d = append(d, FieldError{Field: "cycles", Message: "Give a number of cycles, or a start and an end."})
	}
	if in.Reason == "" {
		d = append(d, FieldError{Field: "reason", Message: "Give a reason; it is kept in the audit log."})
	} else if len(in.Reason) > 500 {
		d = append(d, FieldError{Field: "reason", Message: "The reason is at most 500 characters."})
	}
	if len(d) > 0 {
		return &Error{Kind: Invalid, Message: d[0].Message, Details: d}
	}
	return nil
}

func (s *Suspension) String() string {
	if s == nil {
		return "not suspended"
	}
	if s.CyclesRemaining != nil {
		return fmt.Sprintf("suspended for %d cycle(s): %s", *s.CyclesRemaining, s.Reason)
	}
	return fmt.Sprintf("suspended %s – %s: %s", s.From.Format(time.RFC3339), s.Until.Format(time.RFC3339), s.Reason)
}

// ActionResult says how many endpoints an action touched.
type ActionResult struct {
	Matched int   // endpoints targeted
	Changed int   // endpoints whose state changed
	AuditID int64 // the entry recording it (0 when nothing changed), for Undo
}

// act runs an action over the target's endpoints in one transaction with
// its audit entry. change returns the before and after of one endpoint, or
// equal strings when there was nothing to do for it.
func (db *DB) act(ctx context.Context, actor, action, part string, tg Target, describe string,
	change func(t *txn, c *current) (before, after string, err error)) (ActionResult, error) {
	var res ActionResult
	err := db.update(ctx, func(t *txn) error {
		res = ActionResult{}
		ids, err := t.resolve(tg)
		if err != nil {
			return err
		}
		res.Matched = len(ids)
		if part == "schedule" { // windows that ended count on the schedule the endpoints had
			if err := t.countCycles(); err != nil {
				return err
			}
		}
		if tg.Expect > 0 && len(ids) != tg.Expect {
			return errorf(Conflict, "the filter matches %d endpoints now, not the %d you confirmed: nothing was changed; review the action again", len(ids), tg.Expect)
		}
		changes, err := t.change(ids, part, change)
		if err != nil {
			return err
		}
		res.Changed = len(changes)
		if res.Changed == 0 {
			return nil
		}
		scope := ""
		if tg.Filter != nil {
			scope = cmp.Or(tg.Scope, "(every endpoint)")
		}
		res.AuditID, err = t.auditEntry(actor, action, fmt.Sprintf("%s on %d endpoint(s)", describe, res.Changed), scope, changes)
		return err
	})
	return res, err
}

// Suspend suspends the target's endpoints, replacing any earlier suspension.
func (db *DB) Suspend(ctx context.Context, actor string, tg Target, in SuspendInput) (ActionResult, error) {
	if err := in.Validate(db.now()); err != nil {
		return ActionResult{}, err
	}
	return db.act(ctx, actor, "suspend", "suspension", tg, "suspended", func(t *txn, c *current) (string, string, error) {
		s := &Suspension{From: in.From, Until: in.Until, Reason: in.Reason, CreatedBy: actor, CreatedAt: t.now.Truncate(time.Second)}
		if in.Cycles != nil {
			n := *in.Cycles // each endpoint its own counter
			s.CyclesRemaining, s.CountedTo = &n, s.CreatedAt
		}
		before := c.state.Suspension.String()
		_, err := t.Exec(`INSERT OR REPLACE INTO suspensions (endpoint_id, cycles_remaining, from_at, until_at, reason, created_by, created_at, counted_to)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.id, s.CyclesRemaining, unix(s.From), unix(s.Until), s.Reason, actor, t.now.Unix(), countedTo(s))
		c.state.Suspension = s
		return before, s.String(), err
	})
}

// Unsuspend removes the suspensions of the target's endpoints.
func (db *DB) Unsuspend(ctx context.Context, actor string, tg Target) (ActionResult, error) {
	return db.act(ctx, actor, "unsuspend", "suspension", tg, "removed the suspension", func(t *txn, c *current) (string, string, error) {
		if c.state.Suspension == nil {
			return "", "", nil
		}
		before := c.state.Suspension.String()
		_, err := t.Exec(`DELETE FROM suspensions WHERE endpoint_id = ?`, c.id)
		c.state.Suspension = nil
		return before, "not suspended", err
	})
}

// AcknowledgeReboot records that the target's endpoints were rebooted now,
// which clears a reboot requested before now.
func (db *DB) AcknowledgeReboot(ctx context.Context, actor string, tg Target) (ActionResult, error) {
	return db.act(ctx, actor, "acknowledge-reboot", "reboot", tg, "acknowledged the reboot", func(t *txn, c *current) (string, string, error) {
		if !RebootDue(c.facts.RebootRequiredSince, c.state.RebootAckedAt) {
			return "", "", nil // none asked for, or already acknowledged
		}
		before := "reboot pending since " + c.facts.RebootRequiredSince.Format(time.RFC3339)
		_, err := t.Exec(`INSERT OR REPLACE INTO reboot_acknowledgements (endpoint_id, acked_at, acked_by) VALUES (?, ?, ?)`, c.id, t.now.Unix(), actor)
		now := t.now
		c.state.RebootAckedAt = &now
		return before, "reboot acknowledged", err
	})
}

// AssignSchedule assigns a schedule (0: none) to the target's endpoints.
func (db *DB) AssignSchedule(ctx context.Context, actor string, tg Target, scheduleID int64) (ActionResult, error) {
	name := "none"
	if scheduleID != 0 {
		s, err := db.Schedule(ctx, scheduleID)
		if err != nil {
			return ActionResult{}, err
		}
		name = s.Name
	}
	return db.act(ctx, actor, "schedule", "schedule", tg, "assigned schedule "+name, assignTo(scheduleID, name))
}

// assignTo is the change that moves an endpoint to a schedule (0: none).
func assignTo(scheduleID int64, name string) func(t *txn, c *current) (string, string, error) {
	names := map[int64]string{0: "none", scheduleID: name}
	return func(t *txn, c *current) (string, string, error) {
		if c.scheduleID == scheduleID {
			return "", "", nil
		}
		before, ok := names[c.scheduleID]
		if !ok {
			if err := t.QueryRow(`SELECT name FROM schedules WHERE id = ?`, c.scheduleID).Scan(&before); err != nil {
				return "", "", err
			}
			names[c.scheduleID] = before
		}
		_, err := t.Exec(`UPDATE endpoints SET schedule_id = nullif(?, 0) WHERE id = ?`, scheduleID, c.id)
		c.scheduleID = scheduleID
		return "schedule " + before, "schedule " + name, err
	}
}

// change applies fn to each endpoint, re-evaluates those it changed, and
// returns their audit changes; with the part fn sets as it was before and
// after, when part is not "".
func (t *txn) change(ids []int64, part string, fn func(t *txn, c *current) (before, after string, err error)) ([]AuditChange, error) {
	var changes []AuditChange
	for start := 0; start < len(ids); start += 1000 {
		batch := ids[start:min(start+1000, len(ids))]
		cur, err := loadCurrent(t.Tx, batch)
		if err != nil {
			return nil, err
		}
		for _, id := range batch {
			c := cur[id]
			var was sql.NullString
			if part != "" {
				if was, err = t.readPart(part, id); err != nil {
					return nil, err
				}
			}
			before, after, err := fn(t, c)
			if err != nil {
				return nil, err
			}
			if before == after {
				continue
			}
			if _, err := t.evaluate(c); err != nil {
				return nil, err
			}
			ch := AuditChange{EndpointID: id, EndpointName: c.facts.Name, Before: before, After: after}
			if part != "" {
				ch.Part, ch.StateBefore = part, was
				if ch.StateAfter, err = t.readPart(part, id); err != nil {
					return nil, err
				}
			}
			changes = append(changes, ch)
		}
	}
	return changes, nil
}

// toSecond is t truncated to the second the database keeps.
func toSecond(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := t.Truncate(time.Second)
	return &s
}
