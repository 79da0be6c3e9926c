package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
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

	// sortMatches is set by plan when few enough endpoints match the text
	// search to sort them rather than walk the name index.
	sortMatches bool
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
		if indexedSearch(f.Q) {
			// The trigram index finds the candidates; the LIKE below keeps
			// the exact meaning (it folds only ASCII case, as the index
			// does not).
			conds = append(conds, `e.id IN (SELECT rowid FROM endpoint_search WHERE name LIKE ? OR ip LIKE ?)`)
			args = append(args, "%"+f.Q+"%", "%"+f.Q+"%")
		}
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Q) + "%"
		conds = append(conds, `(e.name LIKE ? ESCAPE '\' OR e.ip LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	if len(f.Exemptions) > 1 && skip != "exemption" {
		conds = append(conds, `e.id IN (SELECT endpoint_id FROM endpoint_exemptions WHERE code IN (SELECT value FROM json_each(?)))`)
		args = append(args, codeList(f.Exemptions))
	}
	if f.Impact != nil && skip != "impact" {
		if len(f.Exemptions) == 1 && skip != "exemption" {
			// The exemption rows' dims carry the impact, indexed as dims % 3
			// (migrations 006 and 007).
			conds = append(conds, `x.dims % 3 = ?`)
		} else {
			conds = append(conds, `e.impact = ?`)
		}
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

// indexedSearch tells whether the search index can answer q: it holds
// three-character sequences, and its LIKE has no escape for the wildcards
// % and _, so shorter terms and terms with those are scanned for instead.
func indexedSearch(q string) bool {
	return utf8.RuneCountInString(q) >= 3 && !strings.ContainsAny(q, `%_\`)
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

// rowColumns are the columns of a Row; the name comes second (a query may
// take it from the exemption rows' copy, which is in their index).
const rowColumns = `e.id, e.name, ` + rowRest

const rowRest = `coalesce(e.ip, ''), coalesce(e.os_family, ''), coalesce(e.os_name, ''), coalesce(e.protocol, ''),
	coalesce(e.connector, ''), coalesce(e.power, ''), coalesce(e.primary_code, ''), e.more_count, e.impact,
	coalesce(e.schedule_id, 0), e.last_contact_at, e.max_disk_pct, e.low_disk`

// scanRow reads one row of rowColumns plus the drives. Every column is
// scanned into an interface and converted here: database/sql converts an
// integer into an *int64 or a named type by reflection, which made up most
// of a page's scanning time.
func scanRow(rows *sql.Rows, r *Row) error {
	var v [16]any
	var dest [16]any
	for i := range v {
		dest[i] = &v[i]
	}
	if err := rows.Scan(dest[:]...); err != nil {
		return err
	}
	str := func(x any) string { s, _ := x.(string); return s }
	num := func(x any) int64 { n, _ := x.(int64); return n }
	r.ID, r.Name, r.IP, r.OSFamily, r.OSName = num(v[0]), str(v[1]), str(v[2]), str(v[3]), str(v[4])
	r.Protocol, r.Connector, r.Power, r.Primary = str(v[5]), str(v[6]), str(v[7]), Code(str(v[8]))
	r.More, r.Impact, r.ScheduleID, r.LowDisk = int(num(v[9])), Impact(num(v[10])), num(v[11]), num(v[14]) != 0
	if t, ok := v[12].(int64); ok {
		r.LastContactAt = fromUnix(&t)
	}
	switch x := v[13].(type) {
	case float64:
		r.MaxDiskPct = &x
	case int64: // a whole percentage is stored as an integer
		f := float64(x)
		r.MaxDiskPct = &f
	}
	if d, ok := v[15].(string); ok {
		var err error
		r.Drives, err = unpackDrives(d)
		return err
	}
	return nil
}

// orderBy returns the ORDER BY clause; reverse flips it (for a "previous" cursor).
func (f *Filter) orderBy(reverse bool) string {
	dir := "ASC"
	if f.Desc != reverse {
		dir = "DESC"
	}
	name := f.nameColumn()
	if f.sortMatches {
		name = "+" + name + " COLLATE NOCASE" // sort the matches instead of walking the index
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
	total, err := db.Count(ctx, f)
	if err != nil {
		return Page{}, err
	}
	p, err := db.Rows(ctx, f, withDrives, total)
	p.Total = total
	return p, err
}

// page reads the rows of one page, without the total.
func (db *DB) page(ctx context.Context, f Filter, withDrives bool, names map[int64]string) (Page, error) {
	from, args := f.from("")
	where, wargs := f.where("")
	args = append(args, wargs...)
	q := `SELECT ` + rowColumns + `, ` + drivesColumn(withDrives) + from + where
	reverse := false
	if f.keyset() {
		var desc bool
		var cursor string
		desc, cursor, reverse = f.direction()
		op := ">"
		if desc {
			op = "<"
		}
		q += ` AND ` + f.nameColumn() + ` ` + op + ` ?` + f.orderBy(reverse) + ` LIMIT ?`
		args = append(args, cursor, f.PerPage+1)
	} else {
		q += f.orderBy(false) + ` LIMIT ? OFFSET ?`
		args = append(args, f.PerPage+1, (f.Page-1)*f.PerPage)
	}
	return db.readPage(ctx, f, reverse, names, q, args...)
}

// direction is how a page in name order reads: forwards from the After
// cursor, or backwards from the Before cursor (reverse: its rows come last
// first, and desc is then the opposite of the list's order).
func (f *Filter) direction() (desc bool, cursor string, reverse bool) {
	if f.keyset() && f.After == "" {
		return !f.Desc, f.Before, true
	}
	return f.Desc, f.After, false
}

// nameColumn is the name the page query orders by: a single exemption
// filter reads the exemption rows' copy, which is in their index.
func (f *Filter) nameColumn() string {
	if len(f.Exemptions) == 1 {
		return "x.name"
	}
	return "e.name"
}

// drivesColumn selects the packed drives (migration 003) only when the
// Disk Space In Use pop-ups will show them.
func drivesColumn(withDrives bool) string {
	if withDrives {
		return "e.drives_packed"
	}
	return "NULL"
}

// readPage runs a page query, which asks for one row more than a page to
// learn whether another follows, and sets the page's links. reverse: the
// query read backwards from a Before cursor. One statement reads a
// consistent snapshot without a transaction.
func (db *DB) readPage(ctx context.Context, f Filter, reverse bool, names map[int64]string, q string, args ...any) (Page, error) {
	p := Page{Rows: make([]Row, 0, f.PerPage+1)}
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		if err := scanRow(rows, &r); err != nil {
			return p, err
		}
		r.ScheduleName = names[r.ScheduleID]
		p.Rows = append(p.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return p, err
	}
	more := len(p.Rows) > f.PerPage
	p.Rows = p.Rows[:min(len(p.Rows), f.PerPage)]
	if reverse {
		slices.Reverse(p.Rows)
		p.HasNext, p.HasPrev = true, more
	} else {
		p.HasNext, p.HasPrev = more, f.Page > 1 || f.After != ""
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

// anyCode marks, in scanned cells, endpoints having any of several
// selected exemptions.
const anyCode Code = "*"

// baseCode is the cell code that counts the endpoints an exemption filter
// lets through: all of them, those with the one exemption, or those with
// any of several.
func (f *Filter) baseCode() Code {
	switch len(f.Exemptions) {
	case 0:
		return ""
	case 1:
		return f.Exemptions[0]
	}
	return anyCode
}

// matches tells whether a counter cell lies inside the filter, leaving out
// the dimension named in skip.
func (f *Filter) matches(k countKey, skip string) bool {
	return (f.Impact == nil || skip == "impact" || k.Impact == *f.Impact) &&
		(!f.LowDisk || skip == "warning" || k.LowDisk) &&
		(f.OS == "" || skip == "os" || k.OS == f.OS) &&
		(f.Protocol == "" || skip == "protocol" || k.Protocol == f.Protocol) &&
		(f.Schedule == nil || skip == "schedule" || k.ScheduleID == *f.Schedule)
}

// cells returns counter cells that answer the filter's totals and option
// counts. Usually they are the kept counters, read from memory. A text
// search, or several exemptions at once, cannot be answered by counters:
// then the matching endpoints are counted into cells of the same shape by
// grouped queries, so the arithmetic below stays the same.
func (db *DB) cells(ctx context.Context, f Filter) ([]cell, error) {
	if f.Q == "" && len(f.Exemptions) <= 1 {
		c, err := db.currentCounts(ctx)
		if err != nil {
			return nil, err
		}
		return c.list, nil
	}
	out := map[countKey]int64{}
	if f.Q == "" {
		c, err := db.currentCounts(ctx)
		if err != nil {
			return nil, err
		}
		for k, v := range c.cells {
			out[k] = v
		}
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	dims := `e.impact, coalesce(e.os_family, ''), coalesce(e.protocol, ''), coalesce(e.schedule_id, 0), e.low_disk`
	text := Filter{Q: f.Q}
	where, args := text.where("")
	if f.Q != "" {
		// Without the search index, NOT INDEXED makes this a plain scan;
		// grouping through an index would read the rows in random order.
		scan := " NOT INDEXED"
		if indexedSearch(f.Q) {
			scan = ""
		}
		// One pass counts both: each matching endpoint with each of its
		// exemptions (LEFT JOIN keeps the endpoints as the outer loop), and
		// the endpoint itself once, on its first exemption or on its row
		// without any.
		err := eachRow(tx, `SELECT coalesce(x.code, ''), `+dims+`, count(x.code), sum(x.code IS NULL OR x.position = 0)
			FROM endpoints e`+scan+` LEFT JOIN endpoint_exemptions x ON x.endpoint_id = e.id WHERE 1=1`+where+`
			GROUP BY 1, 2, 3, 4, 5, 6`, func(rows *sql.Rows) error {
			var k countKey
			var withCode, endpoints int64
			if err := rows.Scan(&k.Code, &k.Impact, &k.OS, &k.Protocol, &k.ScheduleID, &k.LowDisk, &withCode, &endpoints); err != nil {
				return err
			}
			if k.Code != "" {
				out[k] += withCode
			}
			k.Code = ""
			out[k] += endpoints
			return nil
		}, args...)
		if err != nil {
			return nil, err
		}
	}
	if len(f.Exemptions) > 1 {
		err := eachRow(tx, `SELECT '*', `+dims+`, count(*) FROM endpoints e
			WHERE e.id IN (SELECT endpoint_id FROM endpoint_exemptions WHERE code IN (SELECT value FROM json_each(?)))`+where+` GROUP BY 2, 3, 4, 5, 6`,
			func(rows *sql.Rows) error {
				var k countKey
				var n int64
				if err := rows.Scan(&k.Code, &k.Impact, &k.OS, &k.Protocol, &k.ScheduleID, &k.LowDisk, &n); err != nil {
					return err
				}
				out[k] += n
				return nil
			}, append([]any{codeList(f.Exemptions)}, args...)...)
		if err != nil {
			return nil, err
		}
	}
	return cellList(out), nil
}

// Count is the number of endpoints matching a filter.
func (db *DB) Count(ctx context.Context, f Filter) (int64, error) {
	cells, err := db.cells(ctx, f)
	if err != nil {
		return 0, err
	}
	base := f.baseCode()
	var n int64
	for _, c := range cells {
		if c.Code == base && f.matches(c.countKey, "") {
			n += c.n
		}
	}
	return n, nil
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
	Total      int64           // endpoints matching the whole filter
	Unfiltered int64           // every endpoint (text search aside)
}

// Facets counts the options of every filter under the others. The maps of
// the result may be shared with other callers: read them, do not change them.
func (db *DB) Facets(ctx context.Context, f Filter) (Facets, error) {
	if f.Q != "" || len(f.Exemptions) > 1 {
		cells, err := db.cells(ctx, f)
		if err != nil {
			return Facets{}, err
		}
		return sumFacets(cells, f), nil
	}
	c, err := db.currentCounts(ctx)
	if err != nil {
		return Facets{}, err
	}
	key := f.dimensionKey()
	if fc, ok := c.facets.m.Load(key); ok {
		return fc.(Facets), nil
	}
	fc := sumFacets(c.list, f)
	if c.facets.n.Add(1) <= maxCachedFacets {
		c.facets.m.Store(key, fc)
	}
	return fc, nil
}

// dimensionKey identifies the filter's counted dimensions (not its text,
// order or page).
func (f *Filter) dimensionKey() string {
	impact, schedule := -1, int64(-1)
	if f.Impact != nil {
		impact = int(*f.Impact)
	}
	if f.Schedule != nil {
		schedule = *f.Schedule
	}
	return fmt.Sprint(f.Exemptions, impact, f.LowDisk, f.OS, f.Protocol, schedule)
}

// sumFacets sums cells into the facets of f.
func sumFacets(cells []cell, f Filter) Facets {
	fc := Facets{Impact: map[Impact]int64{}, Exemption: map[Code]int64{}, OS: map[string]int64{},
		Protocol: map[string]int64{}, Schedule: map[int64]int64{}}
	base := f.baseCode()
	for _, c := range cells {
		k, v := c.countKey, c.n
		if k.Code == "" {
			fc.Unfiltered += v
		}
		if k.Code != "" && k.Code != anyCode && f.matches(k, "") {
			fc.Exemption[k.Code] += v
		}
		if k.Code != base {
			continue
		}
		if f.matches(k, "") {
			fc.Total += v
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
	return fc
}

// plan chooses how the page query reads. A text search is a scan either
// way; when few endpoints match (total, from the counted cells; -1 when not
// known), sorting the matches beats walking the whole name index.
func (db *DB) plan(ctx context.Context, f *Filter, total int64) error {
	if f.Q == "" || total < 0 || (f.Sort != "" && f.Sort != "name") {
		return nil
	}
	c, err := db.currentCounts(ctx)
	if err != nil {
		return err
	}
	var all int64
	for k, v := range c.cells {
		if k.Code == "" {
			all += v
		}
	}
	f.sortMatches = total*20 < all
	return nil
}

// Overview is the estate at a glance.
type Overview struct {
	Total    int64
	ByImpact map[Impact]int64
	ByCode   map[Code]int64
	LowDisk  int64
}

// Overview sums the counters.
func (db *DB) Overview(ctx context.Context) (Overview, error) {
	fc, err := db.Facets(ctx, Filter{})
	return Overview{Total: fc.Unfiltered, ByImpact: fc.Impact, ByCode: fc.Exemption, LowDisk: fc.LowDisk}, err
}

// Each streams every matching endpoint in the filter's order (for CSV). It
// reads one snapshot, inside a read transaction, so rows written meanwhile
// can neither repeat nor go missing under any sort order. At most
// maxExports run at once, so exports never hold every reader: a page also
// needs a connection of its own for the counters.
func (db *DB) Each(ctx context.Context, f Filter, withDrives bool, fn func(Row) error) error {
	select {
	case db.exports <- struct{}{}:
		defer func() { <-db.exports }()
	case <-ctx.Done():
		return ctx.Err()
	}
	f.Page, f.PerPage, f.Before = 1, MaxPerPage, ""
	total, err := db.Count(ctx, f)
	if err != nil {
		return err
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ctx = context.WithValue(ctx, snapshotKey{}, tx)
	byName := f.Sort == "" || f.Sort == "name"
	for {
		p, err := db.Rows(ctx, f, withDrives, total)
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

// Rows reads one page without its total, for callers that got the total
// from Facets (total, or -1 when not known, helps plan the query).
//
// Everything that needs a connection of its own (counters, schedules) is
// read before the page's query runs: a request holding one reader while
// waiting for another would deadlock the pool under load.
func (db *DB) Rows(ctx context.Context, f Filter, withDrives bool, total int64) (Page, error) {
	if err := db.plan(ctx, &f, total); err != nil {
		return Page{}, err
	}
	schedules, err := db.Schedules(ctx)
	if err != nil {
		return Page{}, err
	}
	names := make(map[int64]string, len(schedules))
	for _, s := range schedules {
		names[s.ID] = s.Name
	}
	if f.PerPage <= 0 || f.PerPage > MaxPerPage {
		f.PerPage = 50
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.mergeable() {
		return db.mergedPage(ctx, f, withDrives, names)
	}
	return db.page(ctx, f, withDrives, names)
}
