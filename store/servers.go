package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Filter is a query of the Servers list (and of the API's endpoint list).
type Filter struct {
	Q          string // substring of name or IP
	Exemptions []Code // any of these
	Impact     *Impact
	LowDisk    bool
	OS         string // os_family
	Protocol   string
	Schedule   *int64 // 0: endpoints without a schedule

	Sort    string // one of SortKeys
	Desc    bool
	Page    int    // 1-based
	PerPage int    // at most MaxPerPage
	After   string // keyset cursor for name order: the last name of the previous page
	Before  string // keyset cursor for name order: the first name of the next page
}

// Sort keys of the Servers list and the column each orders by.
var sortColumns = map[string]string{
	"name": "e.name", "ip": "e.ip", "os": "e.os_name", "impact": "e.impact",
	"exemption": "e.primary_code", "disk": "e.max_disk_pct", "last_contact": "e.last_contact_at",
}

// SortKeys lists the accepted sort keys.
func SortKeys() []string {
	keys := make([]string, 0, len(sortColumns))
	for k := range sortColumns {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MaxPerPage bounds a page of the list.
const MaxPerPage = 500

// Row is one line of the Servers list.
type Row struct {
	ID            int64
	Name          string
	IP            string
	OSFamily      string
	OSName        string
	Protocol      string
	Connector     string
	Power         string
	Primary       Code
	More          int
	Impact        Impact
	ScheduleID    int64
	ScheduleName  string
	LastContactAt *time.Time
	MaxDiskPct    *float64
	LowDisk       bool
	Drives        []Drive // only when asked for
}

// Page is one page of the list.
type Page struct {
	Rows    []Row
	Total   int64
	HasNext bool
	HasPrev bool
}

// keyset tells whether this filter pages by name cursor rather than offset.
func (f *Filter) keyset() bool {
	return (f.Sort == "" || f.Sort == "name") && (f.After != "" || f.Before != "")
}

// where builds the WHERE clause. The dimension named in skip is left out,
// for counting the options of that dimension's filter.
func (f *Filter) where(skip string) (string, []any) {
	var conds []string
	var args []any
	if f.Q != "" && skip != "q" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Q) + "%"
		conds = append(conds, `(e.name LIKE ? ESCAPE '\' OR e.ip LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	if len(f.Exemptions) > 1 && skip != "exemption" {
		conds = append(conds, `e.id IN (SELECT endpoint_id FROM endpoint_exemptions WHERE code IN (SELECT value FROM json_each(?)))`)
		args = append(args, codeList(f.Exemptions))
	}
	if f.Impact != nil && skip != "impact" {
		conds = append(conds, `e.impact = ?`)
		args = append(args, int(*f.Impact))
	}
	if f.LowDisk && skip != "warning" {
		conds = append(conds, `e.low_disk = 1`)
	}
	if f.OS != "" && skip != "os" {
		conds = append(conds, `e.os_family = ?`)
		args = append(args, f.OS)
	}
	if f.Protocol != "" && skip != "protocol" {
		conds = append(conds, `e.protocol = ?`)
		args = append(args, f.Protocol)
	}
	if f.Schedule != nil && skip != "schedule" {
		if *f.Schedule == 0 {
			conds = append(conds, `e.schedule_id IS NULL`)
		} else {
			conds = append(conds, `e.schedule_id = ?`)
			args = append(args, *f.Schedule)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// from is the FROM clause: a single exemption filter reads the exemption
// index, which is ordered by name, instead of the endpoints table.
func (f *Filter) from(skip string) (string, []any) {
	if len(f.Exemptions) == 1 && skip != "exemption" {
		return ` FROM endpoint_exemptions x JOIN endpoints e ON e.id = x.endpoint_id WHERE x.code = ?`, []any{string(f.Exemptions[0])}
	}
	return ` FROM endpoints e WHERE 1=1`, nil
}

func codeList(codes []Code) string {
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%q", string(c))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// idQuery selects the ids of every matching endpoint.
func (f *Filter) idQuery() (string, []any) {
	from, a1 := f.from("")
	where, a2 := f.where("")
	return `SELECT e.id` + from + where + ` ORDER BY e.id`, append(a1, a2...)
}

const rowColumns = `e.id, e.name, coalesce(e.ip, ''), coalesce(e.os_family, ''), coalesce(e.os_name, ''), coalesce(e.protocol, ''),
	coalesce(e.connector, ''), coalesce(e.power, ''), coalesce(e.primary_code, ''), e.more_count, e.impact,
	coalesce(e.schedule_id, 0), e.last_contact_at, e.max_disk_pct, e.low_disk`

func scanRow(rows *sql.Rows, r *Row) error {
	var contact *int64
	if err := rows.Scan(&r.ID, &r.Name, &r.IP, &r.OSFamily, &r.OSName, &r.Protocol, &r.Connector, &r.Power,
		&r.Primary, &r.More, &r.Impact, &r.ScheduleID, &contact, &r.MaxDiskPct, &r.LowDisk); err != nil {
		return err
	}
	r.LastContactAt = fromUnix(contact)
	return nil
}

// orderBy returns the ORDER BY clause; reverse flips it (for a "previous" cursor).
func (f *Filter) orderBy(reverse bool) string {
	dir := "ASC"
	if f.Desc != reverse {
		dir = "DESC"
	}
	name := "e.name"
	if len(f.Exemptions) == 1 {
		name = "x.name" // the index the query reads is ordered by this copy
	}
	col, ok := sortColumns[f.Sort]
	if !ok || f.Sort == "name" {
		return ` ORDER BY ` + name + ` ` + dir
	}
	return fmt.Sprintf(` ORDER BY %s %s, %s %s, e.id %s`, col, dir, name, dir, dir)
}

// List returns one page of matching endpoints; withDrives adds every drive
// of the endpoints on the page (for the Disk Space In Use pop-up).
func (db *DB) List(ctx context.Context, f Filter, withDrives bool) (Page, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Page{}, err
	}
	defer tx.Rollback()
	p, err := db.page(ctx, tx, f, withDrives)
	if err != nil {
		return p, err
	}
	p.Total, err = db.count(ctx, tx, f)
	return p, err
}

// page reads the rows of one page, without the total.
func (db *DB) page(ctx context.Context, tx *sql.Tx, f Filter, withDrives bool) (Page, error) {
	var p Page
	if f.PerPage <= 0 || f.PerPage > MaxPerPage {
		f.PerPage = 50
	}
	if f.Page < 1 {
		f.Page = 1
	}
	from, args := f.from("")
	where, wargs := f.where("")
	args = append(args, wargs...)
	q := `SELECT ` + rowColumns + from + where
	reverse := false
	nameCol := "e.name"
	if len(f.Exemptions) == 1 {
		nameCol = "x.name"
	}
	switch {
	case f.keyset() && f.After != "":
		op := ">"
		if f.Desc {
			op = "<"
		}
		q += ` AND ` + nameCol + ` ` + op + ` ?` + f.orderBy(false) + ` LIMIT ?`
		args = append(args, f.After, f.PerPage+1)
	case f.keyset():
		op := "<"
		if f.Desc {
			op = ">"
		}
		reverse = true
		q += ` AND ` + nameCol + ` ` + op + ` ?` + f.orderBy(true) + ` LIMIT ?`
		args = append(args, f.Before, f.PerPage+1)
	default:
		q += f.orderBy(false) + ` LIMIT ? OFFSET ?`
		args = append(args, f.PerPage+1, (f.Page-1)*f.PerPage)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return p, err
	}
	for rows.Next() {
		var r Row
		if err := scanRow(rows, &r); err != nil {
			rows.Close()
			return p, err
		}
		p.Rows = append(p.Rows, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, err
	}
	more := len(p.Rows) > f.PerPage
	if more {
		p.Rows = p.Rows[:f.PerPage]
	}
	if reverse {
		for i, j := 0, len(p.Rows)-1; i < j; i, j = i+1, j-1 {
			p.Rows[i], p.Rows[j] = p.Rows[j], p.Rows[i]
		}
		p.HasNext, p.HasPrev = true, more
	} else {
		p.HasNext, p.HasPrev = more, f.Page > 1 || f.After != ""
	}

	names, err := scheduleNames(tx)
	if err != nil {
		return p, err
	}
	byID := make(map[int64]*Row, len(p.Rows))
	ids := make([]int64, len(p.Rows))
	for i := range p.Rows {
		r := &p.Rows[i]
		r.ScheduleName = names[r.ScheduleID]
		byID[r.ID], ids[i] = r, r.ID
	}
	if withDrives && len(ids) > 0 {
		if err := eachRow(tx, `SELECT endpoint_id, mount, total_bytes, used_bytes FROM drives
			WHERE endpoint_id IN (SELECT value FROM json_each(?)) ORDER BY endpoint_id, mount`, idList(ids), func(rs *sql.Rows) error {
			var id int64
			var d Drive
			if err := rs.Scan(&id, &d.Mount, &d.TotalBytes, &d.UsedBytes); err != nil {
				return err
			}
			byID[id].Drives = append(byID[id].Drives, d)
			return nil
		}); err != nil {
			return p, err
		}
	}
	return p, nil
}

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

// countable tells whether the counters answer this filter exactly.
func (f *Filter) countable() bool { return f.Q == "" && len(f.Exemptions) <= 1 }

// matches tells whether a counter cell lies inside the filter, leaving out
// the dimension named in skip.
func (f *Filter) matches(k countKey, skip string) bool {
	return (f.Impact == nil || skip == "impact" || k.Impact == *f.Impact) &&
		(!f.LowDisk || skip == "warning" || k.LowDisk) &&
		(f.OS == "" || skip == "os" || k.OS == f.OS) &&
		(f.Protocol == "" || skip == "protocol" || k.Protocol == f.Protocol) &&
		(f.Schedule == nil || skip == "schedule" || k.ScheduleID == *f.Schedule)
}

// count is the number of matching endpoints: from the counters when they
// can answer, else counted.
func (db *DB) count(ctx context.Context, tx *sql.Tx, f Filter) (int64, error) {
	if f.countable() {
		c, err := db.currentCounts(ctx)
		if err != nil {
			return 0, err
		}
		code := Code("")
		if len(f.Exemptions) == 1 {
			code = f.Exemptions[0]
		}
		var n int64
		for k, v := range c.cells {
			if k.Code == code && f.matches(k, "") {
				n += v
			}
		}
		return n, nil
	}
	from, args := f.from("")
	where, wargs := f.where("")
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT count(*)`+from+where, append(args, wargs...)...).Scan(&n)
	return n, err
}

// Facets are, for every filter, how many endpoints each of its options
// would give combined with the other active filters.
type Facets struct {
	Impact     map[Impact]int64
	Exemption  map[Code]int64
	LowDisk    int64
	OS         map[string]int64
	Protocol   map[string]int64
	Schedule   map[int64]int64 // 0: no schedule
	Unfiltered int64           // every endpoint
}

// Facets counts the options of every filter under the others.
func (db *DB) Facets(ctx context.Context, f Filter) (Facets, error) {
	fc := Facets{Impact: map[Impact]int64{}, Exemption: map[Code]int64{}, OS: map[string]int64{},
		Protocol: map[string]int64{}, Schedule: map[int64]int64{}}
	c, err := db.currentCounts(ctx)
	if err != nil {
		return fc, err
	}
	code := Code("")
	if len(f.Exemptions) == 1 {
		code = f.Exemptions[0]
	}
	for k, v := range c.cells {
		if k.Code == "" {
			fc.Unfiltered += v
		}
		if f.Q == "" && k.Code != "" && f.matches(k, "") {
			fc.Exemption[k.Code] += v
		}
		if !f.countable() || k.Code != code {
			continue
		}
		if f.matches(k, "impact") {
			fc.Impact[k.Impact] += v
		}
		if k.LowDisk && f.matches(k, "warning") {
			fc.LowDisk += v
		}
		if f.matches(k, "os") {
			fc.OS[k.OS] += v
		}
		if f.matches(k, "protocol") {
			fc.Protocol[k.Protocol] += v
		}
		if f.matches(k, "schedule") {
			fc.Schedule[k.ScheduleID] += v
		}
	}
	if f.countable() && f.Q == "" {
		return fc, nil
	}
	return fc, db.facetsByQuery(ctx, f, &fc)
}

// facetsByQuery counts in SQL what the counters cannot answer: a text
// search, or several exemptions at once.
func (db *DB) facetsByQuery(ctx context.Context, f Filter, fc *Facets) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	group := func(dim, expr string, add func(rs *sql.Rows) error) error {
		from, args := f.from(dim)
		where, wargs := f.where(dim)
		rows, err := tx.QueryContext(ctx, `SELECT `+expr+`, count(*)`+from+where+` GROUP BY 1`, append(args, wargs...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := add(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if f.Q != "" {
		// Exemption options: counted over the exemption rows of the matches.
		fc.Exemption = map[Code]int64{}
		g := f
		g.Exemptions = nil
		where, args := g.where("")
		rows, err := tx.QueryContext(ctx, `SELECT x.code, count(*) FROM endpoint_exemptions x JOIN endpoints e ON e.id = x.endpoint_id WHERE 1=1`+where+` GROUP BY 1`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c Code
			var n int64
			if err := rows.Scan(&c, &n); err != nil {
				rows.Close()
				return err
			}
			fc.Exemption[c] = n
		}
		rows.Close()
	}
	fc.Impact, fc.OS, fc.Protocol, fc.Schedule = map[Impact]int64{}, map[string]int64{}, map[string]int64{}, map[int64]int64{}
	return firstErr(
		func() error {
			return group("impact", "e.impact", func(rs *sql.Rows) error {
				var i Impact
				var n int64
				err := rs.Scan(&i, &n)
				fc.Impact[i] = n
				return err
			})
		},
		func() error {
			return group("warning", "e.low_disk", func(rs *sql.Rows) error {
				var low bool
				var n int64
				err := rs.Scan(&low, &n)
				if low {
					fc.LowDisk = n
				}
				return err
			})
		},
		func() error {
			return group("os", "coalesce(e.os_family, '')", func(rs *sql.Rows) error {
				var s string
				var n int64
				err := rs.Scan(&s, &n)
				fc.OS[s] = n
				return err
			})
		},
		func() error {
			return group("protocol", "coalesce(e.protocol, '')", func(rs *sql.Rows) error {
				var s string
				var n int64
				err := rs.Scan(&s, &n)
				fc.Protocol[s] = n
				return err
			})
		},
		func() error {
			return group("schedule", "coalesce(e.schedule_id, 0)", func(rs *sql.Rows) error {
				var id, n int64
				err := rs.Scan(&id, &n)
				fc.Schedule[id] = n
				return err
			})
		},
	)
}

func firstErr(fns ...func() error) error {
	for _, fn := range fns {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// Overview is the estate at a glance.
type Overview struct {
	Total      int64
	ByImpact   map[Impact]int64
	ByCode     map[Code]int64
	LowDisk    int64
	BySchedule map[int64]int64
}

// Overview sums the counters.
func (db *DB) Overview(ctx context.Context) (Overview, error) {
	fc, err := db.Facets(ctx, Filter{})
	return Overview{Total: fc.Unfiltered, ByImpact: fc.Impact, ByCode: fc.Exemption, LowDisk: fc.LowDisk, BySchedule: fc.Schedule}, err
}

// Each streams every matching endpoint in the filter's order (for CSV),
// reading in name-keyset batches so no long read transaction is held.
func (db *DB) Each(ctx context.Context, f Filter, withDrives bool, fn func(Row) error) error {
	f.Page, f.PerPage, f.Before = 1, MaxPerPage, ""
	byName := f.Sort == "" || f.Sort == "name"
	for {
		p, err := db.readPage(ctx, f, withDrives)
		if err != nil {
			return err
		}
		for _, r := range p.Rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if !p.HasNext || len(p.Rows) == 0 {
			return nil
		}
		if byName {
			f.After = p.Rows[len(p.Rows)-1].Name
		} else {
			f.Page++
		}
	}
}

func (db *DB) readPage(ctx context.Context, f Filter, withDrives bool) (Page, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Page{}, err
	}
	defer tx.Rollback()
	return db.page(ctx, tx, f, withDrives)
}
