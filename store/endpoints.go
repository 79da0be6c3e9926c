package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// factColumns are the endpoint columns that hold facts, in the order of
// factArgs and scanFacts.
const factColumns = `name, ip, os_family, os_name, platform_supported, managed, protocol, credentials,
	connector, reachable, connection, last_contact_at, power, vm_frozen, ps_execution_policy, ps_version,
	advisories_present, packages_present, repositories_ok, subscription_valid, wsus_last_report_at,
	reboot_required_since, last_window_timed_out, labels`

// factCount is the number of factColumns.
const factCount = 24

func factArgs(f *Facts) []any {
	return []any{f.Name, f.IP, f.OSFamily, f.OSName, f.PlatformSupported, f.Managed, f.Protocol, f.Credentials,
		f.Connector, f.Reachable, f.Connection, unix(f.LastContactAt), f.Power, f.VMFrozen, f.PSExecutionPolicy, f.PSVersion,
		f.AdvisoriesPresent, f.PackagesPresent, f.RepositoriesOK, f.SubscriptionValid, unix(f.WSUSLastReportAt),
		unix(f.RebootRequiredSince), f.LastWindowTimedOut, labelsArg(f.Labels)}
}

// labelsArg stores labels as a JSON array, or NULL for none.
func labelsArg(labels []string) any {
	if len(labels) == 0 {
		return nil
	}
	b, _ := json.Marshal(labels)
	return string(b)
}

// scanLabels reads a labels column back.
func scanLabels(s *string) []string {
	if s == nil || *s == "" {
		return nil
	}
	var out []string
	json.Unmarshal([]byte(*s), &out)
	return out
}

// factDests returns scan destinations for factColumns and a function that
// turns the scanned Unix times into times once the row is read.
func factDests(f *Facts) ([]any, func()) {
	var contact, wsus, reboot *int64
	var labels *string
	dests := []any{&f.Name, &f.IP, &f.OSFamily, &f.OSName, &f.PlatformSupported, &f.Managed, &f.Protocol, &f.Credentials,
		&f.Connector, &f.Reachable, &f.Connection, &contact, &f.Power, &f.VMFrozen, &f.PSExecutionPolicy, &f.PSVersion,
		&f.AdvisoriesPresent, &f.PackagesPresent, &f.RepositoriesOK, &f.SubscriptionValid, &wsus, &reboot, &f.LastWindowTimedOut, &labels}
	return dests, func() {
		f.LastContactAt, f.WSUSLastReportAt, f.RebootRequiredSince = fromUnix(contact), fromUnix(wsus), fromUnix(reboot)
		f.Labels = scanLabels(labels)
	}
}

func unix(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Unix()
}

func fromUnix(s *int64) *time.Time {
	if s == nil {
		return nil
	}
	t := time.Unix(*s, 0).UTC()
	return &t
}

// packDrives is the drives_packed copy of an endpoint's drives (see
// migration 003), or NULL for none. Drives are sorted by mount already.
func packDrives(ds []Drive) any {
	if len(ds) == 0 {
		return nil
	}
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(0x1e)
		}
		b.WriteString(d.Mount)
		b.WriteByte(0x1f)
		b.WriteString(strconv.FormatInt(d.TotalBytes, 10))
		b.WriteByte(0x1f)
		b.WriteString(strconv.FormatInt(d.UsedBytes, 10))
	}
	return b.String()
}

// unpackDrives reads drives_packed back.
func unpackDrives(s string) ([]Drive, error) {
	out := make([]Drive, 0, strings.Count(s, "\x1e")+1)
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, "\x1e")
		mount, rest, ok1 := strings.Cut(part, "\x1f")
		total, used, ok2 := strings.Cut(rest, "\x1f")
		t, err1 := strconv.ParseInt(total, 10, 64)
		u, err2 := strconv.ParseInt(used, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("packed drive %q", part)
		}
		out = append(out, Drive{Mount: mount, TotalBytes: t, UsedBytes: u})
	}
	return out, nil
}

// normalize brings facts to the form they are stored in, so that comparing
// stored and incoming facts tells whether anything changed.
func (f *Facts) normalize() {
	for _, t := range []**time.Time{&f.LastContactAt, &f.WSUSLastReportAt, &f.RebootRequiredSince} {
		if *t != nil {
			u := (*t).UTC().Truncate(time.Second)
			*t = &u
		}
	}
	sort.Slice(f.Drives, func(i, j int) bool { return f.Drives[i].Mount < f.Drives[j].Mount })
	if len(f.Drives) == 0 {
		f.Drives = nil
	}
	if len(f.Labels) == 0 {
		f.Labels = nil
	}
}

// idList encodes ids for `IN (SELECT value FROM json_each(?))`: one
// parameter for any number of ids.
func idList(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// inIDs expands up to a few thousand ids into "?, ?, …" and their
// arguments: SQLite plans a literal IN list faster than a json_each
// subquery, which matters on every page view.
func inIDs(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return placeholders(len(ids)), args
}

// current is an endpoint as stored, loaded for re-evaluation.
type current struct {
	id         int64
	facts      Facts
	scheduleID int64
	state      State
	manual     []string // operators' labels
	sources    string   // fact_sources as stored (see sources.go)
	created    bool     // new in this transaction: it changed no impact
	ackedBy    string   // who acknowledged the last reboot
	exemptions []Exemption
	derived    derived
	updatedAt  int64 // facts_updated_at
}

// derived are the columns the rules write on the endpoint row.
type derived struct {
	Primary   Code
	More      int
	Impact    Impact
	MaxDisk   *float64
	LowDisk   bool
	Stale     bool
	RecheckAt *int64
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// loadCurrent reads everything re-evaluation needs for the given endpoints.
func loadCurrent(tx *sql.Tx, ids []int64) (map[int64]*current, error) {
	out := make(map[int64]*current, len(ids))
	for start := 0; start < len(ids); start += 1000 {
		if err := loadChunk(tx, ids[start:min(start+1000, len(ids))], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadChunk(tx *sql.Tx, ids []int64, out map[int64]*current) error {
	in, list := inIDs(ids)
	rows, err := tx.Query(`SELECT id, `+factColumns+`, coalesce(schedule_id, 0), coalesce(primary_code, ''), more_count,
		impact, max_disk_pct, low_disk, stale_facts, recheck_at, facts_updated_at, coalesce(reported_at, 0), coalesce(fact_sources, ''), manual_labels
		FROM endpoints WHERE id IN (`+in+`)`, list...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		c := &current{}
		dests, done := factDests(&c.facts)
		d := &c.derived
		var manual *string
		var reported int64
		if err := rows.Scan(append(append([]any{&c.id}, dests...), &c.scheduleID, &d.Primary, &d.More, &d.Impact, &d.MaxDisk, &d.LowDisk, &d.Stale,
			&d.RecheckAt, &c.updatedAt, &reported, &c.sources, &manual)...); err != nil {
			return err
		}
		done()
		c.manual = scanLabels(manual)
		if reported != 0 {
			c.state.ReportedAt = time.Unix(reported, 0).UTC()
		}
		out[c.id] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := eachRow(tx, `SELECT endpoint_id, mount, total_bytes, used_bytes FROM drives
		WHERE endpoint_id IN (`+in+`) ORDER BY endpoint_id, mount`, func(r *sql.Rows) error {
		var id int64
		var d Drive
		if err := r.Scan(&id, &d.Mount, &d.TotalBytes, &d.UsedBytes); err != nil {
			return err
		}
		out[id].facts.Drives = append(out[id].facts.Drives, d)
		return nil
	}, list...); err != nil {
		return err
	}
	if err := eachRow(tx, `SELECT endpoint_id, code, since, evidence FROM endpoint_exemptions
		WHERE endpoint_id IN (`+in+`) ORDER BY endpoint_id, position`, func(r *sql.Rows) error {
		var id, since int64
		var e Exemption
		if err := r.Scan(&id, &e.Code, &since, &e.Evidence); err != nil {
			return err
		}
		e.Since = time.Unix(since, 0).UTC()
		out[id].exemptions = append(out[id].exemptions, e)
		return nil
	}, list...); err != nil {
		return err
	}
	if err := eachRow(tx, `SELECT endpoint_id, cycles_remaining, from_at, until_at, reason, created_by, created_at, coalesce(counted_to, created_at) FROM suspensions
		WHERE endpoint_id IN (`+in+`)`, func(r *sql.Rows) error {
		var id, created, counted int64
		var from, until *int64
		s := &Suspension{}
		if err := r.Scan(&id, &s.CyclesRemaining, &from, &until, &s.Reason, &s.CreatedBy, &created, &counted); err != nil {
			return err
		}
		s.From, s.Until, s.CreatedAt, s.CountedTo = fromUnix(from), fromUnix(until), time.Unix(created, 0).UTC(), time.Unix(counted, 0).UTC()
		out[id].state.Suspension = s
		return nil
	}, list...); err != nil {
		return err
	}
	if err := eachRow(tx, `SELECT endpoint_id, acked_at, acked_by FROM reboot_acknowledgements
		WHERE endpoint_id IN (`+in+`)`, func(r *sql.Rows) error {
		var id, at int64
		var by string
		if err := r.Scan(&id, &at, &by); err != nil {
			return err
		}
		out[id].state.RebootAckedAt, out[id].ackedBy = fromUnix(&at), by
		return nil
	}, list...); err != nil {
		return err
	}
	return nil
}

func eachRow(tx *sql.Tx, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := tx.Query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// evaluate runs the rules on c and writes whatever changed: derived columns,
// exemptions (with since and history) and counters. It reports whether the
// endpoint's exemptions changed.
func (t *txn) evaluate(c *current) (bool, error) {
	plan, err := t.plan(c.scheduleID)
	if err != nil {
		return false, err
	}
	c.state.Plan = plan
	r := Evaluate(&c.facts, c.state, t.settings, t.now)

	old := make(map[Code]Exemption, len(c.exemptions))
	oldPos := make(map[Code]int, len(c.exemptions))
	for i, e := range c.exemptions {
		old[e.Code], oldPos[e.Code] = e, i
	}
	changed := len(old) != len(r.Exemptions)
	for i := range r.Exemptions {
		e := &r.Exemptions[i]
		prev, had := old[e.Code]
		delete(old, e.Code)
		if had {
			e.Since = prev.Since
			if prev.Evidence == e.Evidence && oldPos[e.Code] == i {
				continue
			}
			if _, err := t.Exec(`UPDATE endpoint_exemptions SET position = ?, evidence = ? WHERE endpoint_id = ? AND code = ?`,
				i, e.Evidence, c.id, e.Code); err != nil {
				return false, err
			}
			continue
		}
		changed = true
		e.Since = t.now
		if _, err := t.Exec(`INSERT INTO endpoint_exemptions (endpoint_id, code, position, since, evidence) VALUES (?, ?, ?, ?, ?)`,
			c.id, e.Code, i, t.now.Unix(), e.Evidence); err != nil {
			return false, err
		}
	}
	for code, e := range old {
		changed = true
		if _, err := t.Exec(`DELETE FROM endpoint_exemptions WHERE endpoint_id = ? AND code = ?`, c.id, code); err != nil {
			return false, err
		}
		if _, err := t.Exec(`INSERT INTO exemption_history (endpoint_id, code, started_at, ended_at) VALUES (?, ?, ?, ?)`,
			c.id, code, e.Since.Unix(), t.now.Unix()); err != nil {
			return false, err
		}
	}

	d := derived{Primary: r.Primary(), Impact: r.Impact, MaxDisk: r.MaxDiskPct, LowDisk: r.LowDisk, Stale: r.StaleFacts}
	if !c.created && d.Impact != c.derived.Impact {
		if err := t.impactChanged(c.facts.Name, c.derived.Impact, d.Impact, d.Primary); err != nil {
			return false, err
		}
	}
	if n := len(r.Exemptions); n > 1 {
		d.More = n - 1
	}
	if !r.RecheckAt.IsZero() {
		s := r.RecheckAt.Unix()
		d.RecheckAt = &s
	}
	if !reflect.DeepEqual(d, c.derived) {
		if _, err := t.Exec(`UPDATE endpoints SET primary_code = nullif(?, ''), more_count = ?, impact = ?, max_disk_pct = ?,
			low_disk = ?, stale_facts = ?, recheck_at = ? WHERE id = ?`, d.Primary, d.More, d.Impact, d.MaxDisk, d.LowDisk, d.Stale, d.RecheckAt, c.id); err != nil {
			return false, err
		}
	}
	c.exemptions, c.derived = r.Exemptions, d
	t.listed(c)
	return changed, nil
}

// reevaluate loads and re-evaluates endpoints by id.
func (t *txn) reevaluate(ids []int64) error {
	cur, err := loadCurrent(t.Tx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if c, ok := cur[id]; ok {
			if _, err := t.evaluate(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// MaxBatch is the most endpoints one upsert takes.
const MaxBatch = 1000

// UpsertResult says what an upsert did.
type UpsertResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// UpsertFacts creates or replaces the facts of up to MaxBatch endpoints
// for an unnamed source; see ReportFacts.
func (db *DB) UpsertFacts(ctx context.Context, items []Facts) (UpsertResult, error) {
	return db.ReportFacts(ctx, "", whole(items))
}

// whole makes every item a report of every fact (a PUT).
func whole(items []Facts) []Patch {
	out := make([]Patch, len(items))
	for i := range items {
		out[i] = Patch{Facts: items[i], Present: AllFacts}
	}
	return out
}

// ReportFacts records what a source reports about up to MaxBatch
// endpoints, matched by name regardless of case, and re-evaluates them,
// all in one transaction: if any item is invalid, nothing is written. Each
// item sets the facts it names (every fact, for a PUT) and leaves the
// others; a new name creates the endpoint. Each fact remembers the source
// and time of its last report. Facts that did not change are not written
// again, so repeating a request is harmless.
func (db *DB) ReportFacts(ctx context.Context, source string, items []Patch) (UpsertResult, error) {
	if len(items) > MaxBatch {
		return UpsertResult{}, errorf(Invalid, "at most %d endpoints per request, got %d", MaxBatch, len(items))
	}
	return db.report(ctx, source, items, nil)
}

// MaxImport is the most rows one CSV import takes.
const MaxImport = 100000

// ImportFacts records a CSV import by a person: any number of rows up to
// MaxImport, each setting the facts of the file's columns, all or nothing,
// audited in the same transaction. The source is import:<user>.
func (db *DB) ImportFacts(ctx context.Context, actor string, items []Patch) (UpsertResult, error) {
	if len(items) > MaxImport {
		return UpsertResult{}, errorf(Invalid, "at most %d rows per import, got %d", MaxImport, len(items))
	}
	return db.report(ctx, "import:"+actor, items, func(t *txn, res UpsertResult) error {
		return t.audit(actor, "import", fmt.Sprintf("imported facts of %d endpoints: %d new, %d updated, %d unchanged",
			len(items), res.Created, res.Updated, res.Unchanged), nil)
	})
}

// report validates every item, then writes them in one transaction; audit,
// when given, records the change in that transaction.
func (db *DB) report(ctx context.Context, source string, items []Patch, audit func(*txn, UpsertResult) error) (UpsertResult, error) {
	var res UpsertResult
	var details []FieldError
	seen := make(map[string]int, len(items))
	for i := range items {
		for _, fe := range items[i].Facts.Validate() {
			fe.Index = i
			details = append(details, fe)
		}
		key := NameKey(items[i].Facts.Name)
		if j, dup := seen[key]; dup && key != "" {
			details = append(details, FieldError{Index: i, Field: "name", Message: fmt.Sprintf("same name as item %d", j)})
		}
		seen[key] = i
		items[i].Facts.normalize()
	}
	if len(details) > 0 {
		return res, &Error{Kind: Invalid, Message: fmt.Sprintf("%d invalid field(s); nothing was written", len(details)), Details: details}
	}
	err := db.update(ctx, func(t *txn) error {
		res = UpsertResult{}
		var sourceID int64
		if source != "" {
			var err error
			if sourceID, err = t.sourceID(source, len(items)); err != nil {
				return err
			}
		}
		names := make([]string, len(items))
		for i := range items {
			names[i] = items[i].Facts.Name
		}
		b, _ := json.Marshal(names)
		ids := map[string]int64{}
		if err := eachRow(t.Tx, `SELECT id, name FROM endpoints WHERE name IN (SELECT value FROM json_each(?))`, func(r *sql.Rows) error {
			var id int64
			var name string
			if err := r.Scan(&id, &name); err != nil {
				return err
			}
			ids[NameKey(name)] = id
			return nil
		}, string(b)); err != nil {
			return err
		}
		existing := make([]int64, 0, len(ids))
		for _, id := range ids {
			existing = append(existing, id)
		}
		cur, err := loadCurrent(t.Tx, existing)
		if err != nil {
			return err
		}
		fed := map[int64]int64{} // source id → change in endpoints fed
		for i := range items {
			p := &items[i]
			c, ok := cur[ids[NameKey(p.Facts.Name)]]
			f := Facts{Name: p.Facts.Name}
			if ok {
				f = c.facts
				f.Name = p.Facts.Name // a source may correct the case
			}
			p.apply(&f)
			unchanged := false
			switch {
			case !ok:
				c = &current{facts: f, created: true}
				if err := t.QueryRow(`INSERT INTO endpoints (`+factColumns+`, drives_packed, facts_updated_at, created_at)
					VALUES (`+placeholders(factCount)+`, ?, ?, ?) RETURNING id`, append(factArgs(&f), packDrives(f.Drives), t.now.Unix(), t.now.Unix())...).Scan(&c.id); err != nil {
					return err
				}
				res.Created++
			case reflect.DeepEqual(c.facts, f):
				res.Unchanged++
				unchanged = true
			default:
				if _, err := t.Exec(`UPDATE endpoints SET (`+factColumns+`, drives_packed, facts_updated_at) = (`+placeholders(factCount)+`, ?, ?) WHERE id = ?`,
					append(factArgs(&f), packDrives(f.Drives), t.now.Unix(), c.id)...); err != nil {
					return err
				}
				res.Updated++
			}
			if !ok || !reflect.DeepEqual(c.facts.Drives, f.Drives) {
				if _, err := t.Exec(`DELETE FROM drives WHERE endpoint_id = ?`, c.id); err != nil {
					return err
				}
				for _, d := range f.Drives {
					if _, err := t.Exec(`INSERT INTO drives (endpoint_id, mount, total_bytes, used_bytes) VALUES (?, ?, ?, ?)`,
						c.id, d.Mount, d.TotalBytes, d.UsedBytes); err != nil {
						return err
					}
				}
			}
			c.facts = f
			// Who said what, and the time of the last report.
			stored, before, after := mergeReports(c.sources, sourceID, t.now.Unix(), p.Present)
			was, is := sourceIDs(before), sourceIDs(after)
			for id := range is {
				if !was[id] {
					fed[id]++
				}
			}
			for id := range was {
				if !is[id] {
					fed[id]--
				}
			}
			c.sources, c.state.ReportedAt = stored, t.now
			if _, err := t.Exec(`UPDATE endpoints SET fact_sources = ?, reported_at = ? WHERE id = ?`, stored, t.now.Unix(), c.id); err != nil {
				return err
			}
			// The same facts again change nothing the rules see, unless the
			// report clears stale facts: the endpoint is not re-evaluated
			// (its stale-facts check, due at the old report's deadline,
			// finds the new report then).
			if unchanged && !c.derived.Stale {
				continue
			}
			if _, err := t.evaluate(c); err != nil {
				return err
			}
		}
		for id, n := range fed {
			if n != 0 {
				if _, err := t.Exec(`UPDATE sources SET endpoints = endpoints + ? WHERE id = ?`, n, id); err != nil {
					return err
				}
			}
		}
		if audit != nil {
			return audit(t, res)
		}
		return nil
	})
	return res, err
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ReevaluateDue re-evaluates, in batches, every endpoint whose clock
// thresholds have been reached, and returns how many it looked at.
func (db *DB) ReevaluateDue(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := db.update(ctx, func(t *txn) error {
			ids, err := t.ids(`SELECT id FROM endpoints WHERE recheck_at <= ? ORDER BY recheck_at LIMIT 500`, t.now.Unix())
			n = len(ids)
			if err != nil || n == 0 {
				return err
			}
			return t.reevaluate(ids)
		})
		total += n
		if err != nil || n < 500 {
			return total, err
		}
	}
}

// ReevaluateAll re-evaluates every endpoint, in batches, after a change that
// affects them all (a threshold).
func (db *DB) ReevaluateAll(ctx context.Context) error {
	var after int64
	for {
		var ids []int64
		err := db.update(ctx, func(t *txn) error {
			var err error
			if ids, err = t.ids(`SELECT id FROM endpoints WHERE id > ? ORDER BY id LIMIT 1000`, after); err != nil || len(ids) == 0 {
				return err
			}
			return t.reevaluate(ids)
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		after = ids[len(ids)-1]
	}
}

func (t *txn) ids(query string, args ...any) ([]int64, error) {
	rows, err := t.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Endpoint returns one endpoint with everything the endpoint page shows.
func (db *DB) Endpoint(ctx context.Context, id int64) (*Endpoint, error) {
	es, err := db.Endpoints(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, errorf(NotFound, "endpoint %d does not exist", id)
	}
	return es[0], nil
}

// Endpoints returns the endpoints with these ids, in the same order,
// leaving out ids that do not exist.
func (db *DB) Endpoints(ctx context.Context, ids []int64) ([]*Endpoint, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, err := loadCurrent(tx, ids)
	if err != nil {
		return nil, err
	}
	names, err := scheduleNames(tx)
	if err != nil {
		return nil, err
	}
	sources, err := sourceNames(tx)
	if err != nil {
		return nil, err
	}
	out := make([]*Endpoint, 0, len(ids))
	for _, id := range ids {
		c, ok := cur[id]
		if !ok {
			continue
		}
		out = append(out, &Endpoint{ID: c.id, Facts: c.facts, ManualLabels: c.manual, ScheduleID: c.scheduleID, ScheduleName: names[c.scheduleID],
			RebootAckedAt: c.state.RebootAckedAt, RebootAckedBy: c.ackedBy, Suspension: c.state.Suspension, Exemptions: c.exemptions,
			Sources: factSources(c.sources, sources), ReportedAt: c.state.ReportedAt, StaleFacts: c.derived.Stale,
			Primary: c.derived.Primary, MoreCount: c.derived.More, Impact: c.derived.Impact, MaxDiskPct: c.derived.MaxDisk,
			LowDisk: c.derived.LowDisk, FactsUpdatedAt: time.Unix(c.updatedAt, 0).UTC()})
	}
	return out, nil
}

// EndpointByName finds an endpoint by name, ignoring case.
func (db *DB) EndpointByName(ctx context.Context, name string) (*Endpoint, error) {
	var id int64
	err := db.queryRow(ctx, `SELECT id FROM endpoints WHERE name = ?`, name).Scan(&id)
	if err == sql.ErrNoRows {
		return nil, errorf(NotFound, "no endpoint is named %q", name)
	} else if err != nil {
		return nil, err
	}
	return db.Endpoint(ctx, id)
}

// HistoryEntry is an exemption an endpoint had, current or cleared.
type HistoryEntry struct {
	Code    Code
	Started time.Time
	Ended   *time.Time // nil: still in force
}

// History lists an endpoint's exemptions over time, newest first.
func (db *DB) History(ctx context.Context, id int64, limit int) ([]HistoryEntry, error) {
	rows, err := db.query(ctx, `SELECT code, since, NULL FROM endpoint_exemptions WHERE endpoint_id = ?
		UNION ALL SELECT code, started_at, ended_at FROM exemption_history WHERE endpoint_id = ?
		ORDER BY 3 IS NOT NULL, 3 DESC, 2 DESC LIMIT ?`, id, id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var started int64
		var ended *int64
		if err := rows.Scan(&h.Code, &started, &ended); err != nil {
			return nil, err
		}
		h.Started, h.Ended = time.Unix(started, 0).UTC(), fromUnix(ended)
		out = append(out, h)
	}
	return out, rows.Err()
}
