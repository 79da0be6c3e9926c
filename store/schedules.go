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
	rows, err := q.Query(`SELECT s.id, s.name, s.description, s.timezone FROM schedules s ORDER BY s.name`)
	if err != nil {
		return nil, err
	}
	var out []Schedule
	index := map[int64]int{}
	for rows.Next() {
		var s Schedule
		if err := rows.Scan(&s.ID, &s.Name, &s.Description, &s.Timezone); err != nil {
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
	rows, err = q.Query(`SELECT id, schedule_id, starts_local, duration_seconds, rrule, created_at FROM schedule_entries ORDER BY starts_local, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e ScheduleEntry
		var sid, secs, created int64
		var start string
		if err := rows.Scan(&e.ID, &sid, &start, &secs, &e.RRule, &created); err != nil {
			return nil, err
		}
		if e.Start, err = ParseWall(start); err != nil {
			return nil, err
		}
		e.Duration, e.CreatedAt = time.Duration(secs)*time.Second, time.Unix(created, 0).UTC()
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

// ScheduleInput is a schedule's name, description and time zone, as typed.
type ScheduleInput struct {
	Name        string
	Description string
	Timezone    string // IANA; "" is UTC
}

func (in *ScheduleInput) validate() error {
	in.Name, in.Description, in.Timezone = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description), strings.TrimSpace(in.Timezone)
	if in.Timezone == "" {
		in.Timezone = "UTC"
	}
	var d []FieldError
	switch {
	case in.Name == "":
		d = append(d, FieldError{Field: "name", Message: "Give the schedule a name."})
	case len(in.Name) > 100:
		d = append(d, FieldError{Field: "name", Message: "The name is at most 100 characters."})
	}
	if len(in.Description) > 1000 {
		d = append(d, FieldError{Field: "description", Message: "The description is at most 1,000 characters."})
	}
	if _, err := LoadZone(in.Timezone); err != nil {
		d = append(d, FieldError{Field: "timezone", Message: "Give an IANA time zone such as Europe/Berlin, America/New_York or UTC."})
	}
	if len(d) > 0 {
		return &Error{Kind: Invalid, Message: d[0].Message, Details: d}
	}
	return nil
}

// EntryInput is one entry as typed: a local start, a duration and a rule.
type EntryInput struct {
	Start    Wall
	Duration time.Duration
	RRule    string
}

// MaxWindow is the longest window an entry may have.
const MaxWindow = 7 * 24 * time.Hour

// validate checks an entry; field names carry a prefix for entry i of a list.
func (in *EntryInput) validate(prefix string) []FieldError {
	var d []FieldError
	if in.Start.IsZero() {
		d = append(d, FieldError{Field: prefix + "starts_at", Message: "Give the local date and time the window starts."})
	}
	if in.Duration < time.Minute || in.Duration > MaxWindow {
		d = append(d, FieldError{Field: prefix + "duration_minutes", Message: "A window lasts from 1 minute to 7 days (10,080 minutes)."})
	}
	rule, err := ParseRecurrence(in.RRule)
	if err != nil {
		d = append(d, FieldError{Field: prefix + "rrule", Message: upperFirst(err.Error()) + "."})
	}
	in.RRule = rule
	return d
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func uniqueName(err error, what, name string) error {
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return &Error{Kind: Conflict, Message: fmt.Sprintf("a %s named %q already exists", what, name), Details: []FieldError{{Field: "name", Message: "This name is taken; choose another."}}}
	}
	return err
}

// CreateSchedule adds a schedule with its entries (there may be none yet).
func (db *DB) CreateSchedule(ctx context.Context, actor string, in ScheduleInput, entries ...EntryInput) (int64, error) {
	if err := validateSchedule(&in, entries); err != nil {
		return 0, err
	}
	var id int64
	err := db.update(ctx, func(t *txn) error {
		err := t.QueryRow(`INSERT INTO schedules (name, description, timezone, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			in.Name, in.Description, in.Timezone, t.now.Unix()).Scan(&id)
		if err != nil {
			return uniqueName(err, "schedule", in.Name)
		}
		if err := t.insertEntries(id, entries); err != nil {
			return err
		}
		t.forgetPlans()
		return t.audit(actor, "schedule.create", fmt.Sprintf("created schedule %q (%s, %d entries)", in.Name, in.Timezone, len(entries)), nil)
	})
	return id, err
}

// validateSchedule checks a schedule and its entries, each problem against
// its field (entries[i].field for the entries of a list).
func validateSchedule(in *ScheduleInput, entries []EntryInput) error {
	var d []FieldError
	if err := in.validate(); err != nil {
		d = append(d, err.(*Error).Details...)
	}
	if len(entries) > 100 {
		d = append(d, FieldError{Field: "entries", Message: "A schedule has at most 100 entries."})
	}
	for i := range entries {
		d = append(d, entries[i].validate(fmt.Sprintf("entries[%d].", i))...)
	}
	if len(d) > 0 {
		return &Error{Kind: Invalid, Message: d[0].Message, Details: d}
	}
	return nil
}

func (t *txn) insertEntries(scheduleID int64, entries []EntryInput) error {
	for _, e := range entries {
		if _, err := t.Exec(`INSERT INTO schedule_entries (schedule_id, starts_local, duration_seconds, rrule, created_at) VALUES (?, ?, ?, ?, ?)`,
			scheduleID, e.Start.Format("2006-01-02T15:04:05"), int64(e.Duration/time.Second), e.RRule, t.now.Unix()); err != nil {
			return err
		}
	}
	return nil
}

// UpdateSchedule changes a schedule's name, description and zone; with
// entries (not nil) it replaces them too. Its endpoints are re-evaluated.
func (db *DB) UpdateSchedule(ctx context.Context, actor string, id int64, in ScheduleInput, entries []EntryInput) error {
	if err := validateSchedule(&in, entries); err != nil {
		return err
	}
	return db.changeEntries(ctx, actor, id, "schedule.update", func(t *txn, old string) (string, error) {
		if _, err := t.Exec(`UPDATE schedules SET name = ?, description = ?, timezone = ? WHERE id = ?`, in.Name, in.Description, in.Timezone, id); err != nil {
			return "", uniqueName(err, "schedule", in.Name)
		}
		what := fmt.Sprintf("schedule %q: name %q, description %q, time zone %s", old, in.Name, in.Description, in.Timezone)
		if entries != nil {
			if _, err := t.Exec(`DELETE FROM schedule_entries WHERE schedule_id = ?`, id); err != nil {
				return "", err
			}
			if err := t.insertEntries(id, entries); err != nil {
				return "", err
			}
			what += fmt.Sprintf(", %d entries", len(entries))
		}
		return what, nil
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
		if err := t.countCycles(); err != nil {
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
		t.forgetPlans()
		return t.audit(actor, "schedule.delete", fmt.Sprintf("deleted schedule %q (%d endpoints unassigned)", name, len(ids)), changes)
	})
}

// AddEntry adds an entry to a schedule and re-evaluates its endpoints.
func (db *DB) AddEntry(ctx context.Context, actor string, scheduleID int64, in EntryInput) error {
	if d := in.validate(""); len(d) > 0 {
		return &Error{Kind: Invalid, Message: d[0].Message, Details: d}
	}
	return db.changeEntries(ctx, actor, scheduleID, "schedule.entry.add", func(t *txn, name string) (string, error) {
		what := fmt.Sprintf("added an entry to %q: %s for %s", name, in.Start, in.Duration)
		if in.RRule != "" {
			what += ", " + in.RRule
		}
		return what, t.insertEntries(scheduleID, []EntryInput{in})
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
		// Windows that have ended count against suspensions on the
		// calendar as it was; the change applies from now on.
		if err := t.countCycles(); err != nil {
			return err
		}
		summary, err := change(t, name)
		if err != nil {
			return err
		}
		t.forgetPlans()
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

// CountCycles uses up suspension cycles for the windows that have ended
// since they were last counted, and re-evaluates the endpoints concerned.
func (db *DB) CountCycles(ctx context.Context) error {
	return db.update(ctx, func(t *txn) error { return t.countCycles() })
}

// countCycles counts, for every suspension by cycles still running, the
// windows of its endpoint's schedule that ended since it was last counted
// (see Schedule.cycleWindows). Suspensions made together share their
// times, so the windows are counted once per schedule and group.
func (t *txn) countCycles() error {
	type group struct {
		schedule        int64
		made, countedTo int64
	}
	var groups []group
	if err := eachRow(t.Tx, `SELECT DISTINCT coalesce(e.schedule_id, 0), s.created_at, s.counted_to FROM suspensions s
		JOIN endpoints e ON e.id = s.endpoint_id WHERE s.cycles_remaining > 0 AND s.counted_to < ?`, func(r *sql.Rows) error {
		var g group
		err := r.Scan(&g.schedule, &g.made, &g.countedTo)
		groups = append(groups, g)
		return err
	}, t.now.Unix()); err != nil || len(groups) == 0 {
		return err
	}
	all, err := loadSchedules(t.Tx)
	if err != nil {
		return err
	}
	byID := map[int64]*Schedule{}
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	for _, g := range groups {
		n := byID[g.schedule].cycleWindows(time.Unix(g.made, 0), time.Unix(g.countedTo, 0), t.now)
		if n == 0 {
			continue // nothing ended: a quiet tick writes nothing
		}
		// n > 0: the group has a schedule, whose index finds its endpoints.
		where := `cycles_remaining > 0 AND created_at = ? AND counted_to = ? AND endpoint_id IN (SELECT id FROM endpoints WHERE schedule_id = ?)`
		args := []any{g.made, g.countedTo, g.schedule}
		ended, err := t.ids(`SELECT endpoint_id FROM suspensions WHERE `+where+` AND cycles_remaining <= ?`, append(args, n)...)
		if err != nil {
			return err
		}
		if _, err := t.Exec(`UPDATE suspensions SET cycles_remaining = max(cycles_remaining - ?, 0), counted_to = ? WHERE `+where,
			append([]any{n, t.now.Unix()}, args...)...); err != nil {
			return err
		}
		if len(ended) > 0 {
			if err := t.reevaluate(ended); err != nil {
				return err
			}
		}
	}
	return nil
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
