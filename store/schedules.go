package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loadSchedules reads every schedule with its entries.
func loadSchedules(q queryer) ([]Schedule, error) {
	rows, err := q.Query(`SELECT s.id, s.name, s.description FROM schedules s ORDER BY s.name`)
	if err != nil {
		return nil, err
	}
	var out []Schedule
	index := map[int64]int{}
	for rows.Next() {
		var s Schedule
		if err := rows.Scan(&s.ID, &s.Name, &s.Description); err != nil {
			rows.Close()
			return nil, err
		}
		index[s.ID] = len(out)
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(`SELECT id, schedule_id, starts_at, ends_at, repeat_weekly, repeat_until FROM schedule_entries ORDER BY starts_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e ScheduleEntry
		var sid, start, end int64
		var until *int64
		if err := rows.Scan(&e.ID, &sid, &start, &end, &e.RepeatWeekly, &until); err != nil {
			return nil, err
		}
		e.StartsAt, e.EndsAt, e.RepeatUntil = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC(), fromUnix(until)
		if i, ok := index[sid]; ok {
			out[i].Entries = append(out[i].Entries, e)
		}
	}
	return out, rows.Err()
}

// Schedules lists every schedule with its entries and endpoint counts.
// The list is cached against the data version, which every write bumps;
// the counts come from the read model when it is built (a server), else
// from the database (a command).
func (db *DB) Schedules(ctx context.Context) ([]Schedule, error) {
	version, err := db.knownDataVersion(ctx)
	if err != nil {
		return nil, err
	}
	db.mu.RLock()
	cached := db.schedules
	db.mu.RUnlock()
	if cached != nil && cached.version == version {
		return slices.Clone(cached.list), nil
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	all, err := loadSchedules(tx)
	if err != nil {
		return nil, err
	}
	per := map[int64]int{}
	if db.ListReady() {
		for i := range all {
			per[all[i].ID] = db.list.model.Count(DimSchedule, strconv.FormatInt(all[i].ID, 10))
		}
	} else if err := eachRow(tx, `SELECT schedule_id, count(*) FROM endpoints WHERE schedule_id IS NOT NULL GROUP BY schedule_id`, func(r *sql.Rows) error {
		var id int64
		var n int
		err := r.Scan(&id, &n)
		per[id] = n
		return err
	}); err != nil {
		return nil, err
	}
	for i := range all {
		all[i].Endpoints = per[all[i].ID]
	}
	db.mu.Lock()
	db.schedules = &scheduleCache{version: version, list: all}
	db.mu.Unlock()
	db.list.scheduleNames(all)
	return slices.Clone(all), nil
}

// scheduleCache is the schedule list at a counters version.
type scheduleCache struct {
	version int64
	list    []Schedule
}

// Schedule returns one schedule.
func (db *DB) Schedule(ctx context.Context, id int64) (*Schedule, error) {
	all, err := db.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, errorf(NotFound, "schedule %d does not exist", id)
}

// ScheduleInput is a schedule's name and description, as typed.
type ScheduleInput struct {
	Name        string
	Description string
}

func (in *ScheduleInput) validate() error {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	switch {
	case in.Name == "":
		return &Error{Kind: Invalid, Message: "Give the schedule a name.", Details: []FieldError{{Field: "name", Message: "Give the schedule a name."}}}
	case len(in.Name) > 100:
		return &Error{Kind: Invalid, Message: "The name is at most 100 characters.", Details: []FieldError{{Field: "name", Message: "The name is at most 100 characters."}}}
	case len(in.Description) > 1000:
		return &Error{Kind: Invalid, Message: "The description is at most 1,000 characters.", Details: []FieldError{{Field: "description", Message: "The description is at most 1,000 characters."}}}
	}
	return nil
}

func uniqueName(err error, what, name string) error {
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return &Error{Kind: Conflict, Message: fmt.Sprintf("a %s named %q already exists", what, name), Details: []FieldError{{Field: "name", Message: "This name is taken; choose another."}}}
	}
	return err
}

// CreateSchedule adds an empty schedule.
func (db *DB) CreateSchedule(ctx context.Context, actor string, in ScheduleInput) (int64, error) {
	if err := in.validate(); err != nil {
		return 0, err
	}
	var id int64
	err := db.update(ctx, func(t *txn) error {
		err := t.QueryRow(`INSERT INTO schedules (name, description, cycles_counted_until, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			in.Name, in.Description, t.now.Unix(), t.now.Unix()).Scan(&id)
		if err != nil {
			return uniqueName(err, "schedule", in.Name)
		}
		return t.audit(actor, "schedule.create", fmt.Sprintf("created schedule %q", in.Name), nil)
	})
	return id, err
}

// UpdateSchedule renames or re-describes a schedule.
func (db *DB) UpdateSchedule(ctx context.Context, actor string, id int64, in ScheduleInput) error {
	if err := in.validate(); err != nil {
		return err
	}
	return db.update(ctx, func(t *txn) error {
		old, err := t.scheduleName(id)
		if err != nil {
			return err
		}
		if _, err := t.Exec(`UPDATE schedules SET name = ?, description = ? WHERE id = ?`, in.Name, in.Description, id); err != nil {
			return uniqueName(err, "schedule", in.Name)
		}
		return t.audit(actor, "schedule.update", fmt.Sprintf("schedule %q: name %q, description %q", old, in.Name, in.Description), nil)
	})
}

// DeleteSchedule removes a schedule; its endpoints are left without one and
// re-evaluated.
func (db *DB) DeleteSchedule(ctx context.Context, actor string, id int64) error {
	return db.update(ctx, func(t *txn) error {
		name, err := t.scheduleName(id)
		if err != nil {
			return err
		}
		ids, err := t.ids(`SELECT id FROM endpoints WHERE schedule_id = ?`, id)
		if err != nil {
			return err
		}
		changes, err := t.change(ids, "", assignTo(0, "none"))
		if err != nil {
			return err
		}
		if _, err := t.Exec(`DELETE FROM schedules WHERE id = ?`, id); err != nil {
			return err
		}
		t.plans = nil
		return t.audit(actor, "schedule.delete", fmt.Sprintf("deleted schedule %q (%d endpoints unassigned)", name, len(ids)), changes)
	})
}

// EntryInput is one window as typed in a form.
type EntryInput struct {
	StartsAt, EndsAt time.Time
	RepeatWeekly     bool
	RepeatUntil      *time.Time
}

// AddEntry adds a window (or weekly series) to a schedule and re-evaluates
// the endpoints on it.
func (db *DB) AddEntry(ctx context.Context, actor string, scheduleID int64, in EntryInput) error {
	in.StartsAt, in.EndsAt, in.RepeatUntil = in.StartsAt.Truncate(time.Second), in.EndsAt.Truncate(time.Second), toSecond(in.RepeatUntil)
	var details []FieldError
	if !in.EndsAt.After(in.StartsAt) {
		details = append(details, FieldError{Field: "ends_at", Message: "End must be after start."})
	}
	if in.RepeatWeekly && (in.RepeatUntil == nil || in.RepeatUntil.Before(in.StartsAt)) {
		details = append(details, FieldError{Field: "repeat_until", Message: "A weekly window needs a repeat-until date on or after its start."})
	}
	if len(details) > 0 {
		return &Error{Kind: Invalid, Message: details[0].Message, Details: details}
	}
	if !in.RepeatWeekly {
		in.RepeatUntil = nil
	}
	return db.changeEntries(ctx, actor, scheduleID, "schedule.entry.add", func(t *txn, name string) (string, error) {
		_, err := t.Exec(`INSERT INTO schedule_entries (schedule_id, starts_at, ends_at, repeat_weekly, repeat_until) VALUES (?, ?, ?, ?, ?)`,
			scheduleID, in.StartsAt.Unix(), in.EndsAt.Unix(), in.RepeatWeekly, unix(in.RepeatUntil))
		what := fmt.Sprintf("added a window %s – %s to %q", in.StartsAt.Format(time.RFC3339), in.EndsAt.Format(time.RFC3339), name)
		if in.RepeatWeekly {
			what += ", weekly until " + in.RepeatUntil.Format(time.RFC3339)
		}
		return what, err
	})
}

// DeleteEntry removes a window from a schedule.
func (db *DB) DeleteEntry(ctx context.Context, actor string, scheduleID, entryID int64) error {
	return db.changeEntries(ctx, actor, scheduleID, "schedule.entry.delete", func(t *txn, name string) (string, error) {
		res, err := t.Exec(`DELETE FROM schedule_entries WHERE id = ? AND schedule_id = ?`, entryID, scheduleID)
		if err != nil {
			return "", err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "", errorf(NotFound, "window %d is not part of schedule %q", entryID, name)
		}
		return fmt.Sprintf("removed window %d from %q", entryID, name), nil
	})
}

func (db *DB) changeEntries(ctx context.Context, actor string, scheduleID int64, action string, change func(*txn, string) (string, error)) error {
	return db.update(ctx, func(t *txn) error {
		name, err := t.scheduleName(scheduleID)
		if err != nil {
			return err
		}
		summary, err := change(t, name)
		if err != nil {
			return err
		}
		t.plans = nil
		if err := t.reevaluateWhere(`schedule_id = ?`, scheduleID); err != nil {
			return err
		}
		return t.audit(actor, action, summary, nil)
	})
}

// reevaluateWhere re-evaluates every endpoint matching a condition, in batches.
func (t *txn) reevaluateWhere(cond string, args ...any) error {
	var after int64
	for {
		ids, err := t.ids(`SELECT id FROM endpoints WHERE `+cond+` AND id > ? ORDER BY id LIMIT 1000`, append(args, after)...)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := t.reevaluate(ids); err != nil {
			return err
		}
		after = ids[len(ids)-1]
	}
}

// CountCycles uses up suspension cycles for every schedule window that has
// ended since the last call, and re-evaluates the endpoints concerned.
func (db *DB) CountCycles(ctx context.Context) error {
	return db.update(ctx, func(t *txn) error {
		all, err := loadSchedules(t.Tx)
		if err != nil {
			return err
		}
		for i := range all {
			s := &all[i]
			var counted int64
			if err := t.QueryRow(`SELECT cycles_counted_until FROM schedules WHERE id = ?`, s.ID).Scan(&counted); err != nil {
				return err
			}
			// Windows ending in (counted, now] use up cycles; with none, the
			// mark stays where it is and the next call looks at a longer span.
			n := s.WindowsEndedBetween(time.Unix(counted, 0), t.now)
			if n == 0 {
				continue
			}
			if _, err := t.Exec(`UPDATE schedules SET cycles_counted_until = ? WHERE id = ?`, t.now.Unix(), s.ID); err != nil {
				return err
			}
			if _, err := t.Exec(`UPDATE suspensions SET cycles_remaining = max(cycles_remaining - ?, 0)
				WHERE cycles_remaining > 0 AND endpoint_id IN (SELECT id FROM endpoints WHERE schedule_id = ?)`, n, s.ID); err != nil {
				return err
			}
			if err := t.reevaluateWhere(`schedule_id = ? AND id IN (SELECT endpoint_id FROM suspensions WHERE cycles_remaining IS NOT NULL)`, s.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// scheduleName returns a schedule's name, or NotFound.
func (t *txn) scheduleName(id int64) (string, error) {
	var name string
	err := t.QueryRow(`SELECT name FROM schedules WHERE id = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errorf(NotFound, "schedule %d does not exist", id)
	}
	return name, err
}

// scheduleNames maps schedule ids to names.
func scheduleNames(q queryer) (map[int64]string, error) {
	rows, err := q.Query(`SELECT id, name FROM schedules`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := map[int64]string{}
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		names[id] = n
	}
	return names, rows.Err()
}
