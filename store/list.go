package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"patchready/store/readmodel"
)

// Filter is a query of the Servers list, the CSV export, the API's list
// and facets, and bulk actions on "all matching".
type Filter struct {
	Q     []string // name or address contains any of these
	Conds []Cond

	// BlockedBefore, when set, keeps the endpoints that cannot be patched
	// since before it (blocked for more than N days).
	BlockedBefore time.Time
	BlockedDays   int // the N of blocked_days_gt, as given

	Sort    string // a column of SortColumns or "label:KEY"; "" is name
	Desc    bool
	After   string // opaque cursor: the rows after this one
	Before  string // opaque cursor: the rows before this one
	Page    int    // 1-based; without a cursor, the page to show
	PerPage int    // at most MaxPerPage
}

// Cond selects by one dimension: any of its values (all of them for a
// dimension with AllOf), or with Not none of them.
type Cond struct {
	Dim    string
	Not    bool
	Values []string
}

// MaxPerPage bounds a page of the list.
const MaxPerPage = 500

// Values returns the values the filter selects (Not false) or excludes
// (Not true) for a dimension.
func (f *Filter) Values(dim string, not bool) []string {
	var out []string
	for _, c := range f.Conds {
		if c.Dim == dim && c.Not == not {
			out = append(out, c.Values...)
		}
	}
	return out
}

// Has tells whether the filter selects value of dim.
func (f *Filter) Has(dim, value string) bool { return slices.Contains(f.Values(dim, false), value) }

// Add adds value to the filter's selection (or, with not, exclusion) of dim.
func (f *Filter) Add(dim string, not bool, value string) {
	for i := range f.Conds {
		if c := &f.Conds[i]; c.Dim == dim && c.Not == not {
			if !slices.Contains(c.Values, value) {
				c.Values = append(c.Values, value)
			}
			return
		}
	}
	f.Conds = append(f.Conds, Cond{Dim: dim, Not: not, Values: []string{value}})
}

// pageQuery is the read model's query for one page of the filter.
func (f *Filter) pageQuery() readmodel.Query {
	q := f.query()
	q.Limit = f.PerPage
	if q.Limit <= 0 || q.Limit > MaxPerPage {
		q.Limit = 50
	}
	if f.After == "" && f.Before == "" && f.Page > 1 {
		q.Offset = (f.Page - 1) * q.Limit
	}
	return q
}

func (f *Filter) query() readmodel.Query {
	q := readmodel.Query{Text: f.Q, Column: f.Sort, Desc: f.Desc, After: f.After, Before: f.Before}
	if !f.BlockedBefore.IsZero() {
		q.Ranges = append(q.Ranges, BlockedBefore(f.BlockedBefore))
	}
	if q.Column == "" {
		q.Column = "name"
	}
	for _, c := range f.Conds {
		mode := readmodel.Any
		if c.Not {
			mode = readmodel.None
		} else if d, _, _ := DimensionByParam(c.Dim); d.AllOf {
			mode = readmodel.All
		}
		q.Conds = append(q.Conds, readmodel.Cond{Dim: c.Dim, Mode: mode, Values: c.Values})
	}
	return q
}

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
	Exemptions    []Code // precedence order
	More          int
	Impact        Impact
	ScheduleID    int64
	ScheduleName  string
	LastContactAt *time.Time
	BlockedSince  time.Time // cannot be patched since; zero when patchable
	MaxDiskPct    *float64
	LowDisk       bool
	Labels        []string
	Drives        []Drive // only when asked for
}

// LabelValues returns the values of a label key on the row ("" for a bare
// label of that name).
func (r *Row) LabelValues(key string) []string {
	var out []string
	for _, l := range r.Labels {
		k, v, _ := strings.Cut(l, ":")
		if k == key {
			out = append(out, v)
		}
	}
	return out
}

// Page is one page of the list.
type Page struct {
	Rows  []Row
	Total int64
	// Prev and Next are cursors for the neighbouring pages; "" at an end.
	Prev, Next string
}

// ErrCursor is a cursor that does not belong to the list's order.
var ErrCursor = &Error{Kind: Invalid, Message: "The after or before parameter is not a page cursor of this list and sort order; start again from the first page.",
	Details: []FieldError{{Field: "after", Message: "not a cursor of this order"}}}

// listIndex keeps the read model in step with the database.
type listIndex struct {
	schema *listSchema
	model  *readmodel.Model[kept]

	mu        sync.Mutex
	built     bool
	version   int64     // the data version the model reflects
	checkedAt time.Time // when the database's version was last looked at
}

func newListIndex() *listIndex {
	s := &listSchema{text: newTextArena()}
	return &listIndex{schema: s, model: readmodel.New[kept](s)}
}

// applied brings a committed write into the model. The caller holds the
// write lock, so writes arrive here in commit order.
func (l *listIndex) applied(version int64, changed map[int64]*listed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.built || version != l.version+1 {
		l.built = l.built && version == l.version+1 // a gap: another process wrote; rebuild
		return
	}
	text := l.schema.text
	changes := make([]readmodel.Change[kept], 0, len(changed))
	for id, e := range changed {
		// The arena keeps a name and address once: an endpoint that keeps
		// both keeps its place there.
		old, had := l.model.Get(uint32(id))
		switch {
		case had && e != nil && text.name(old.text) == e.name && text.ip(old.text) == e.ip:
			changes = append(changes, readmodel.Change[kept]{ID: uint32(id), Rec: &kept{old.text, e.listFields}})
			continue
		case had:
			text.drop(old.text)
		}
		ch := readmodel.Change[kept]{ID: uint32(id)}
		if e != nil {
			ch.Rec = &kept{text.add(e.name, e.ip), e.listFields}
		}
		changes = append(changes, ch)
	}
	l.model.Apply(changes)
	l.version = version
	if text.wasteful() {
		l.compact()
	}
}

// compact copies the names and addresses the records point to into a new
// arena, leaving the garbage behind, under the read model's write lock.
func (l *listIndex) compact() {
	old, fresh := l.schema.text, newTextArena()
	l.model.Rewrite(func(_ uint32, e *kept) {
		e.text = fresh.add(old.name(e.text), old.ip(e.text))
	}, func() { l.schema.text = fresh })
}

// ListReady tells whether the read model is built (and so /readyz is ready).
func (db *DB) ListReady() bool {
	db.list.mu.Lock()
	defer db.list.mu.Unlock()
	return db.list.built
}

// staleCheckEvery is how often a read looks whether another process
// changed the database (patchready seed or import against a live server).
const staleCheckEvery = 250 * time.Millisecond

// readModel returns the read model, building it first when it is not built
// or another process changed the database since.
func (db *DB) readModel(ctx context.Context) (*readmodel.Model[kept], error) {
	l := db.list
	l.mu.Lock()
	built, check := l.built, time.Since(l.checkedAt) >= staleCheckEvery
	if check {
		l.checkedAt = time.Now()
	}
	l.mu.Unlock()
	if built && check && db.writeMu.TryLock() {
		// With the write lock held no write of ours is between commit and
		// apply, so a newer version is another process's.
		v, err := db.dataVersion(ctx)
		l.mu.Lock()
		if err == nil && v != l.version {
			l.built = false
		}
		built = l.built
		l.mu.Unlock()
		db.writeMu.Unlock()
	}
	if built {
		return l.model, nil
	}
	return l.model, db.BuildReadModel(ctx)
}

// knownDataVersion is the data version without asking the database when
// the read model is built: every write of ours moves it, and readModel
// notices another process's. Every list page asks (for schedule names).
func (db *DB) knownDataVersion(ctx context.Context) (int64, error) {
	l := db.list
	l.mu.Lock()
	built, v := l.built, l.version
	l.mu.Unlock()
	if built {
		return v, nil
	}
	return db.dataVersion(ctx)
}

func (db *DB) dataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, keyDataVersion).Scan(&v)
	return v, err
}

// BuildReadModel (re)builds the read model from the database. Writes wait
// meanwhile: at a million endpoints a few seconds, at start.
func (db *DB) BuildReadModel(ctx context.Context) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return db.buildReadModel(ctx)
}

// buildReadModel is BuildReadModel for a caller that holds the write lock.
func (db *DB) buildReadModel(ctx context.Context) error {
	l := db.list
	l.mu.Lock()
	built := l.built
	l.mu.Unlock()
	if built {
		return nil
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, keyDataVersion).Scan(&version); err != nil {
		return err
	}
	var maxID uint32
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM endpoints`).Scan(&maxID); err != nil {
		return err
	}
	// The records are built with a new text arena, put in place once
	// Rebuild holds the model's write lock (it calls load then): readers
	// of the old records keep reading the old arena until then.
	load := loadListed(ctx, db, tx, l.schema, maxID)
	if err := l.model.Rebuild(maxID, func(yield func(uint32, *kept) error) error {
		l.schema.text = newTextArena()
		return load(yield)
	}); err != nil {
		return err
	}
	l.mu.Lock()
	l.built, l.version, l.checkedAt = true, version, time.Now()
	l.mu.Unlock()
	names, err := scheduleNames(tx)
	if err != nil {
		return err
	}
	all := make([]Schedule, 0, len(names))
	for id, n := range names {
		all = append(all, Schedule{ID: id, Name: n})
	}
	l.scheduleNames(all)
	return nil
}

// loadListed reads every endpoint as the list sees it, with its name and
// address put in the schema's text arena. Reading is most of a build
// (modernc's SQLite turns a row into Go values in about 5 µs), so the ids
// up to the middle are read from tx and the rest from a second read
// transaction, each on a goroutine of its own; the caller's goroutine
// yields them as they come.
func loadListed(ctx context.Context, db *DB, tx *sql.Tx, schema *listSchema, maxID uint32) func(yield func(uint32, *kept) error) error {
	return func(yield func(uint32, *kept) error) error {
		second, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer second.Rollback()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type item struct {
			id uint32
			e  listed
		}
		const batchSize = 1024
		batches := make(chan []item, 4)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		read := func(i int, tx *sql.Tx, lo, hi uint32) {
			defer wg.Done()
			send := func(batch []item) error {
				select {
				case batches <- batch:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			batch := make([]item, 0, batchSize)
			errs[i] = readListed(ctx, tx, schema, lo, hi, func(id uint32, e *listed) error {
				if batch = append(batch, item{id, *e}); len(batch) < batchSize {
					return nil
				}
				err := send(batch)
				batch = make([]item, 0, batchSize)
				return err
			})
			if errs[i] == nil && len(batch) > 0 {
				errs[i] = send(batch)
			}
		}
		mid := maxID / 2
		wg.Add(2)
		go read(0, tx, 0, mid)
		go read(1, second, mid+1, max(maxID, mid+1))
		go func() { wg.Wait(); close(batches) }()
		var yieldErr error
		for batch := range batches {
			for i := 0; i < len(batch) && yieldErr == nil; i++ {
				e := &batch[i].e
				if yieldErr = yield(batch[i].id, &kept{schema.text.add(e.name, e.ip), e.listFields}); yieldErr != nil {
					cancel() // the readers stop; the loop drains what they sent
				}
			}
		}
		if yieldErr != nil {
			return yieldErr
		}
		return errors.Join(errs...)
	}
}

// readListed reads the endpoints with ids from lo to hi as the list sees
// them, in id order.
func readListed(ctx context.Context, tx *sql.Tx, schema *listSchema, lo, hi uint32, yield func(uint32, *listed) error) error {
	codes, err := tx.QueryContext(ctx, `SELECT endpoint_id, code, since FROM endpoint_exemptions WHERE endpoint_id BETWEEN ? AND ?
			ORDER BY endpoint_id, position`, lo, hi)
	if err != nil {
		return err
	}
	defer codes.Close()
	var codeID, since int64
	var code string
	haveCode := codes.Next()
	if haveCode {
		if err := codes.Scan(&codeID, &code, &since); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, name, ip, os_family, os_name, protocol, connector, power, last_contact_at,
			coalesce(labels, ''), coalesce(manual_labels, ''), coalesce(primary_code, ''), impact, coalesce(schedule_id, 0),
			max_disk_pct, low_disk, stale_facts FROM endpoints WHERE id BETWEEN ? AND ? ORDER BY id`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	// Label sets repeat across a fleet: one is decoded the first time
	// its stored form is seen. The row's values are scanned into the
	// same variables every time (a million rows should not make a
	// million of each).
	sets := map[[2]string]uint32{}
	var exemptions []Code
	var (
		id                                               int64
		name, labels, manual                             string
		ip, osFamily, osName, protocol, connector, power sql.NullString
		contact                                          sql.NullInt64
		disk                                             sql.NullFloat64
		primary                                          Code
		impact                                           Impact
		schedule                                         int64
		low, stale                                       bool
		f                                                Facts
		lastContact                                      time.Time
	)
	str := func(s *sql.NullString) *string {
		if !s.Valid {
			return nil
		}
		return &s.String
	}
	for rows.Next() {
		if err := rows.Scan(&id, &name, &ip, &osFamily, &osName, &protocol, &connector, &power, &contact,
			&labels, &manual, &primary, &impact, &schedule, &disk, &low, &stale); err != nil {
			return err
		}
		f = Facts{Name: name, IP: str(&ip), OSFamily: str(&osFamily), OSName: str(&osName), Protocol: str(&protocol),
			Connector: str(&connector), Power: str(&power)}
		if contact.Valid {
			lastContact = time.Unix(contact.Int64, 0).UTC()
			f.LastContactAt = &lastContact
		}
		var maxDisk *float64
		if disk.Valid {
			maxDisk = &disk.Float64
		}
		key := [2]string{labels, manual}
		set, ok := sets[key]
		if !ok {
			union := unionLabels(scanLabels(&labels), scanLabels(&manual))
			set = schema.labelSets.id(strings.Join(union, "\x00"), func() []string { return union })
			if len(sets) < 100_000 {
				sets[key] = set
			}
		}
		exemptions = exemptions[:0]
		var blocked int64
		for haveCode && codeID <= id {
			if codeID == id {
				exemptions = append(exemptions, Code(code))
				if blocked == 0 || since < blocked {
					blocked = since
				}
			}
			if haveCode = codes.Next(); haveCode {
				if err := codes.Scan(&codeID, &code, &since); err != nil {
					return err
				}
			}
		}
		if impact == Patchable {
			blocked = 0
		}
		e := schema.listedWith(&f, set, schedule, exemptions, primary, impact, maxDisk, low, stale, blocked)
		if err := yield(uint32(id), &e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return codes.Err()
}

// scheduleNames gives the schedule column its names, and drops its
// ordering when they changed.
func (l *listIndex) scheduleNames(all []Schedule) {
	names := make(map[int64]string, len(all))
	for _, sc := range all {
		names[sc.ID] = sc.Name
	}
	s := l.schema
	s.mu.Lock()
	changed := len(names) != len(s.scheduleNames)
	for id, n := range names {
		changed = changed || s.scheduleNames[id] != n
	}
	s.scheduleNames = names
	s.mu.Unlock()
	if changed {
		l.model.Forget("schedule")
	}
}

// List returns one page of matching endpoints; withDrives adds every drive
// of the endpoints on the page (for the Disk Space In Use pop-up).
func (db *DB) List(ctx context.Context, f Filter, withDrives bool) (Page, error) {
	m, err := db.readModel(ctx)
	if err != nil {
		return Page{}, err
	}
	p, err := m.Page(f.pageQuery())
	if errors.Is(err, readmodel.ErrCursor) {
		return Page{}, ErrCursor
	} else if err != nil {
		return Page{}, err
	}
	rows, err := db.rows(ctx, m, p.IDs, withDrives)
	return Page{Rows: rows, Total: int64(p.Total), Prev: p.Prev, Next: p.Next}, err
}

// rows makes the rows of the given endpoints, in that order.
func (db *DB) rows(ctx context.Context, m *readmodel.Model[kept], ids []uint32, withDrives bool) ([]Row, error) {
	schedules, err := db.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(schedules))
	for _, s := range schedules {
		names[s.ID] = s.Name
	}
	out := make([]Row, 0, len(ids))
	s := db.list.schema
	// Under the model's read lock: the name and address are in its arena.
	m.Read(ids, func(id uint32, e *kept) {
		r := Row{ID: int64(id), Name: s.text.name(e.text), IP: s.text.ip(e.text), OSFamily: unenum(OSFamilies, e.osFamily), OSName: s.osNames.value(uint32(e.osName)),
			Protocol: unenum(Protocols, e.protocol), Connector: unenum(Connectors, e.connector), Power: unenum(PowerStates, e.power),
			Exemptions: codes(e.exemptions), Impact: Impact(e.impact), ScheduleID: int64(e.schedule), ScheduleName: names[int64(e.schedule)],
			LowDisk: e.lowDisk, Labels: s.labelSets.value(e.labels)}
		if e.primary != 0 {
			r.Primary = Catalog[e.primary-1].Code
		}
		if n := len(r.Exemptions); n > 1 {
			r.More = n - 1
		}
		if e.blocked != 0 {
			r.BlockedSince = time.Unix(int64(e.blocked), 0).UTC()
		}
		if e.lastContact != 0 {
			t := time.Unix(int64(e.lastContact), 0).UTC()
			r.LastContactAt = &t
		}
		if e.hasDisk {
			d := e.maxDisk
			r.MaxDiskPct = &d
		}
		out = append(out, r)
	})
	if !withDrives || len(out) == 0 {
		return out, nil
	}
	at := make(map[int64]*Row, len(out))
	idList := make([]int64, len(out))
	for i := range out {
		at[out[i].ID], idList[i] = &out[i], out[i].ID
	}
	in, args := inIDs(idList)
	rows, err := db.query(ctx, `SELECT id, drives_packed FROM endpoints WHERE id IN (`+in+`) AND drives_packed IS NOT NULL`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var packed string
		if err := rows.Scan(&id, &packed); err != nil {
			return nil, err
		}
		if at[id].Drives, err = unpackDrives(packed); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// Count is how many endpoints match the filter.
func (db *DB) Count(ctx context.Context, f Filter) (int64, error) {
	m, err := db.readModel(ctx)
	if err != nil {
		return 0, err
	}
	return int64(m.Total(f.query())), nil
}

// matchingIDs lists every endpoint matching the filter, in id order, for
// a write transaction (which holds the write lock).
func (t *txn) matchingIDs(f Filter) ([]int64, error) {
	l := t.db.list
	l.mu.Lock()
	built := l.built
	l.mu.Unlock()
	if !built {
		if err := t.db.buildReadModel(context.Background()); err != nil {
			return nil, err
		}
	}
	m := l.model
	q := f.query()
	q.Column = "name"
	ids, err := m.IDs(q)
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	slices.Sort(out)
	return out, err
}

// Facets are the counts of every filter option under the other filters.
type Facets struct {
	Total      int64                       // endpoints matching the whole filter
	Unfiltered int64                       // every endpoint
	Counts     map[string]map[string]int64 // dimension → value → endpoints
}

// Count is the count of one option.
func (fc Facets) Count(dim, value string) int64 { return fc.Counts[dim][value] }

// Facets counts the options of every dimension under the other filters: a
// dimension's own "any of" selection is left out of its counts, its "all
// of" and "none of" stay (see readmodel.Facets).
func (db *DB) Facets(ctx context.Context, f Filter) (Facets, error) {
	m, err := db.readModel(ctx)
	if err != nil {
		return Facets{}, err
	}
	total, counts := m.Facets(f.query(), facetDims())
	return facetsOf(total, m.Len(), counts), nil
}

func facetDims() []string {
	dims := make([]string, len(Dimensions))
	for i, d := range Dimensions {
		dims[i] = d.Name
	}
	return dims
}

// facetsOf converts the read model's counts.
func facetsOf(total, unfiltered int, counts map[string]map[string]int) Facets {
	fc := Facets{Total: int64(total), Unfiltered: int64(unfiltered), Counts: make(map[string]map[string]int64, len(counts))}
	for dim, values := range counts {
		out := make(map[string]int64, len(values))
		for v, n := range values {
			if dim == DimLabel && strings.HasSuffix(v, ":*") {
				continue // key:* is a filter, not an option
			}
			out[v] = int64(n)
		}
		fc.Counts[dim] = out
	}
	return fc
}

// ListWithFacets is List and Facets of one filter, which share the work of
// filtering (the Servers page shows both).
func (db *DB) ListWithFacets(ctx context.Context, f Filter, withDrives bool) (Page, Facets, error) {
	m, err := db.readModel(ctx)
	if err != nil {
		return Page{}, Facets{}, err
	}
	q := f.pageQuery()
	p, counts, err := m.PageAndFacets(q, facetDims())
	if errors.Is(err, readmodel.ErrCursor) {
		return Page{}, Facets{}, ErrCursor
	} else if err != nil {
		return Page{}, Facets{}, err
	}
	rows, err := db.rows(ctx, m, p.IDs, withDrives)
	return Page{Rows: rows, Total: int64(p.Total), Prev: p.Prev, Next: p.Next}, facetsOf(p.Total, m.Len(), counts), err
}

// LabelKeys lists the label keys in use (for label columns), sorted.
func (db *DB) LabelKeys(ctx context.Context) ([]string, error) {
	m, err := db.readModel(ctx)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, v := range m.Values(DimLabel) {
		if k, ok := strings.CutSuffix(v, ":*"); ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Overview is the estate's counts by impact, exemption and warning.
type Overview struct {
	Total    int64
	ByImpact map[Impact]int64
	ByCode   map[Code]int64
	LowDisk  int64
}

// Overview counts the whole estate.
func (db *DB) Overview(ctx context.Context) (Overview, error) {
	fc, err := db.Facets(ctx, Filter{})
	if err != nil {
		return Overview{}, err
	}
	ov := Overview{Total: fc.Total, ByImpact: map[Impact]int64{}, ByCode: map[Code]int64{}, LowDisk: fc.Count(DimWarning, string(LowDiskSpace))}
	for _, i := range Impacts {
		ov.ByImpact[i] = fc.Count(DimImpact, i.String())
	}
	for v, n := range fc.Counts[DimExemption] {
		ov.ByCode[Code(v)] = n
	}
	return ov, nil
}

// Each streams every matching endpoint in the filter's order (for CSV): the
// set and its order are one snapshot of the read model, so rows written
// meanwhile can neither repeat nor go missing in any sort order. Rows are
// read in batches.
func (db *DB) Each(ctx context.Context, f Filter, withDrives bool, fn func(Row) error) error {
	m, err := db.readModel(ctx)
	if err != nil {
		return err
	}
	ids, err := m.IDs(f.query())
	if errors.Is(err, readmodel.ErrCursor) {
		return ErrCursor
	} else if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += MaxPerPage {
		rows, err := db.rows(ctx, m, ids[start:min(start+MaxPerPage, len(ids))], withDrives)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}
