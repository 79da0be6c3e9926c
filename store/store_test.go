package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"patchready/migrations"
)

// clock is a settable clock for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// MustOpen opens a fresh database file in a temp dir with a test clock.
func MustOpen(tb testing.TB) (*DB, *clock) {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	c := &clock{t: now}
	db.Now = c.now
	return db, c
}

func mustUpsert(tb testing.TB, db *DB, items ...Facts) UpsertResult {
	tb.Helper()
	res, err := db.UpsertFacts(context.Background(), items)
	if err != nil {
		tb.Fatalf("upsert: %v (%+v)", err, err)
	}
	return res
}

func codesOf(tb testing.TB, db *DB, name string) []Code {
	tb.Helper()
	e, err := db.EndpointByName(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	var cs []Code
	for _, x := range e.Exemptions {
		cs = append(cs, x.Code)
	}
	return cs
}

// checkCounts compares the kept counters with counts made from scratch.
func checkCounts(tb testing.TB, db *DB) {
	tb.Helper()
	ctx := context.Background()
	db.mu.Lock()
	db.counts = nil // force a reload from the table
	db.mu.Unlock()
	ov, err := db.Overview(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var total, low int64
	db.r.QueryRow(`SELECT count(*), coalesce(sum(low_disk), 0) FROM endpoints`).Scan(&total, &low)
	if ov.Total != total || ov.LowDisk != low {
		tb.Fatalf("counters say %d endpoints, %d low disk; table has %d, %d", ov.Total, ov.LowDisk, total, low)
	}
	rows, _ := db.r.Query(`SELECT code, count(*) FROM endpoint_exemptions GROUP BY code`)
	defer rows.Close()
	want := map[Code]int64{}
	for rows.Next() {
		var c Code
		var n int64
		rows.Scan(&c, &n)
		want[c] = n
	}
	if !reflect.DeepEqual(want, ov.ByCode) {
		tb.Fatalf("exemption counters %v, table %v", ov.ByCode, want)
	}
	// The exemption rows' copy of dims (written from dimsOf) agrees with the
	// endpoint's generated column, and the column with dimsOf.
	var stale int64
	db.r.QueryRow(`SELECT count(*) FROM endpoint_exemptions x JOIN endpoints e ON e.id = x.endpoint_id WHERE x.dims != e.dims`).Scan(&stale)
	if stale != 0 {
		tb.Fatalf("%d exemption rows have other dims than their endpoint", stale)
	}
	rows, _ = db.r.Query(`SELECT DISTINCT dims, impact, coalesce(os_family, ''), coalesce(protocol, ''), low_disk FROM endpoints`)
	defer rows.Close()
	for rows.Next() {
		var dims int
		var k countKey
		rows.Scan(&dims, &k.Impact, &k.OS, &k.Protocol, &k.LowDisk)
		if got := dimsOf(k.Impact, k.OS, k.Protocol, k.LowDisk); got != dims {
			tb.Fatalf("dimsOf%+v = %d, the column says %d", k, got, dims)
		}
	}
}

func TestMigrateFromEmpty(t *testing.T) {
	db, _ := MustOpen(t)
	files, _ := fs.Glob(migrations.FS, "*.sql")
	v, err := db.SchemaVersion(context.Background())
	if err != nil || v != len(files) {
		t.Fatalf("schema version = %d, %v; %d migrations", v, err, len(files))
	}
	// Opening again applies nothing twice.
	db2, err := Open(context.Background(), db.Path())
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	var mode string
	db.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	var fk int
	db.r.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	if mode != "wal" || fk != 1 {
		t.Fatalf("journal_mode=%s foreign_keys=%d", mode, fk)
	}
}

func TestUpsertDerivesExemptions(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	f, _ := healthy()
	f.Drives = []Drive{{"/", 100, 95}, {"/var", 100, 10}}
	res := mustUpsert(t, db, f)
	if res.Created != 1 {
		t.Fatalf("result %+v", res)
	}
	e, err := db.EndpointByName(ctx, "WEB-01") // any case
	if err != nil {
		t.Fatal(err)
	}
	if e.Primary != MaintenanceWindowRequired || e.Impact != TemporarilyCannotPatch || !e.LowDisk || *e.MaxDiskPct != 95 {
		t.Fatalf("derived %+v", e)
	}
	// The list reads the drives' packed copy in the row.
	p, err := db.List(ctx, Filter{}, true)
	if err != nil || len(p.Rows) != 1 || !reflect.DeepEqual(p.Rows[0].Drives, f.Drives) {
		t.Fatalf("listed drives %+v, want %+v (%v)", p.Rows, f.Drives, err)
	}
	// Same facts again: nothing written, no history.
	if res := mustUpsert(t, db, f); res.Unchanged != 1 {
		t.Fatalf("second upsert %+v", res)
	}
	// A change of facts updates the exemptions and records history.
	clk.advance(time.Hour)
	f.VMFrozen = ptr(true)
	f.Drives = nil
	mustUpsert(t, db, f)
	if got := codesOf(t, db, "web-01"); !reflect.DeepEqual(got, []Code{PendingUserAction, MaintenanceWindowRequired}) {
		t.Fatalf("codes %v", got)
	}
	e, _ = db.Endpoint(ctx, e.ID)
	if e.LowDisk || e.MaxDiskPct != nil || e.Impact != CannotPatch || e.MoreCount != 1 {
		t.Fatalf("after change %+v", e)
	}
	if p, _ := db.List(ctx, Filter{}, true); p.Rows[0].Drives != nil {
		t.Fatalf("drives left in the list after they were removed: %+v", p.Rows[0].Drives)
	}
	if !e.Exemptions[1].Since.Equal(now) || !e.Exemptions[0].Since.Equal(now.Add(time.Hour)) {
		t.Fatalf("since %v", e.Exemptions)
	}
	f.VMFrozen = ptr(false)
	clk.advance(time.Hour)
	mustUpsert(t, db, f)
	h, err := db.History(ctx, e.ID, 10)
	if err != nil || len(h) != 2 || h[1].Code != PendingUserAction || h[1].Ended == nil {
		t.Fatalf("history %+v %v", h, err)
	}
	checkCounts(t, db)
}

func TestUpsertIsAtomic(t *testing.T) {
	db, _ := MustOpen(t)
	good, _ := healthy()
	bad := good
	bad.Name = "db-02"
	bad.Power = ptr("sleeping")
	_, err := db.UpsertFacts(context.Background(), []Facts{good, bad})
	e, ok := err.(*Error)
	if !ok || e.Kind != Invalid || len(e.Details) != 1 || e.Details[0].Index != 1 || e.Details[0].Field != "power" {
		t.Fatalf("error %#v", err)
	}
	var n int
	db.r.QueryRow(`SELECT count(*) FROM endpoints`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d endpoints written", n)
	}
	dup := good
	dup.Name = "WEB-01"
	if _, err := db.UpsertFacts(context.Background(), []Facts{good, dup}); KindOf(err) != Invalid {
		t.Fatalf("duplicate names: %v", err)
	}
}

func TestReevaluateAsClockMoves(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	f, _ := healthy()
	f.Protocol = ptr("web")
	f.LastContactAt = ptr(now.Add(-30 * time.Minute))
	mustUpsert(t, db, f)
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{MaintenanceWindowRequired}) {
		t.Fatalf("before %v", got)
	}
	clk.advance(20 * time.Minute)
	if n, _ := db.ReevaluateDue(ctx); n != 0 {
		t.Fatalf("re-evaluated %d before the threshold", n)
	}
	clk.advance(11 * time.Minute)
	if n, err := db.ReevaluateDue(ctx); n != 1 || err != nil {
		t.Fatalf("re-evaluated %d, %v", n, err)
	}
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{Disconnected, MaintenanceWindowRequired}) {
		t.Fatalf("after %v", got)
	}
	checkCounts(t, db)
}

func TestSchedulesAndCycles(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	f, _ := healthy()
	mustUpsert(t, db, f)
	e, _ := db.EndpointByName(ctx, f.Name)
	tg := Target{IDs: []int64{e.ID}}

	id, err := db.CreateSchedule(ctx, "alice", ScheduleInput{Name: "Nightly"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AssignSchedule(ctx, "alice", tg, id); err != nil {
		t.Fatal(err)
	}
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{NoMaintenanceEntry}) {
		t.Fatalf("empty schedule: %v", got)
	}
	// A daily-ish weekly series starting in an hour: awaiting.
	start := now.Add(time.Hour)
	err = db.AddEntry(ctx, "alice", id, EntryInput{StartsAt: start, EndsAt: start.Add(2 * time.Hour), RepeatWeekly: true, RepeatUntil: ptr(start.Add(2 * week))})
	if err != nil {
		t.Fatal(err)
	}
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{AwaitingMaintenanceWindow}) {
		t.Fatalf("future schedule: %v", got)
	}
	if _, err := db.Suspend(ctx, "alice", tg, SuspendInput{Cycles: ptr(2), Reason: "change freeze"}); err != nil {
		t.Fatal(err)
	}
	// The first window opens: awaiting clears, the suspension holds.
	clk.advance(90 * time.Minute)
	db.ReevaluateDue(ctx)
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{SuspendedByUser}) {
		t.Fatalf("in the first window: %v", got)
	}
	// The first window ends: one cycle used, one left.
	clk.advance(week + time.Hour)
	if err := db.CountCycles(ctx); err != nil {
		t.Fatal(err)
	}
	e, _ = db.Endpoint(ctx, e.ID)
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{SuspendedByUser}) || *e.Suspension.CyclesRemaining != 1 {
		t.Fatalf("after one window: %v, %d cycles left", got, *e.Suspension.CyclesRemaining)
	}
	// The second ends: the suspension is spent, during the third window.
	clk.advance(week)
	db.CountCycles(ctx)
	if got := codesOf(t, db, f.Name); len(got) != 0 {
		t.Fatalf("after two windows: %v", got)
	}
	// Past the last window the schedule has expired.
	clk.advance(week)
	db.CountCycles(ctx)
	db.ReevaluateDue(ctx)
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{MaintenanceWindowExpired}) {
		t.Fatalf("after the series: %v", got)
	}
	entries, _ := db.Audit(ctx, AuditFilter{})
	if len(entries) < 4 || entries[0].Action != "suspend" {
		t.Fatalf("audit %+v", entries)
	}
	checkCounts(t, db)
}

func TestActionsAndAudit(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	f, _ := healthy()
	f.RebootRequiredSince = ptr(now.Add(-time.Hour))
	mustUpsert(t, db, f)
	e, _ := db.EndpointByName(ctx, f.Name)
	tg := Target{IDs: []int64{e.ID}}
	clk.advance(time.Minute)
	res, err := db.AcknowledgeReboot(ctx, "bob", tg)
	if err != nil || res.Changed != 1 {
		t.Fatalf("ack %+v %v", res, err)
	}
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{MaintenanceWindowRequired}) {
		t.Fatalf("after ack %v", got)
	}
	// Acknowledging again changes nothing and writes no audit entry.
	if res, _ := db.AcknowledgeReboot(ctx, "bob", tg); res.Changed != 0 {
		t.Fatalf("second ack %+v", res)
	}
	_, err = db.Suspend(ctx, "bob", tg, SuspendInput{From: ptr(now.Add(time.Hour)), Until: ptr(now), Reason: "x"})
	if KindOf(err) != Invalid {
		t.Fatalf("impossible dates: %v", err)
	}
	if _, err := db.Suspend(ctx, "bob", tg, SuspendInput{From: ptr(now), Until: ptr(now.Add(24 * time.Hour)), Reason: "DB migration"}); err != nil {
		t.Fatal(err)
	}
	if got := codesOf(t, db, f.Name); got[0] != SuspendedByUser {
		t.Fatalf("after suspend %v", got)
	}
	if _, err := db.Unsuspend(ctx, "bob", tg); err != nil {
		t.Fatal(err)
	}
	if got := codesOf(t, db, f.Name); !reflect.DeepEqual(got, []Code{MaintenanceWindowRequired}) {
		t.Fatalf("after unsuspend %v", got)
	}
	log, _ := db.Audit(ctx, AuditFilter{Actor: "bob"})
	if len(log) != 3 || log[0].Action != "unsuspend" || log[2].Action != "acknowledge-reboot" {
		t.Fatalf("audit %+v", log)
	}
	ch, _ := db.AuditChanges(ctx, log[0].ID, 10)
	if len(ch) != 1 || ch[0].After != "not suspended" {
		t.Fatalf("changes %+v", ch)
	}
	if _, err := db.Unsuspend(ctx, "bob", Target{IDs: []int64{e.ID, 999}}); KindOf(err) != NotFound {
		t.Fatalf("missing endpoint: %v", err)
	}
}

func TestSeedDemoCoversCatalogAndBackup(t *testing.T) {
	db, _ := MustOpen(t)
	ctx := context.Background()
	if err := db.SeedDemo(ctx, 3000); err != nil {
		t.Fatal(err)
	}
	ov, err := db.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Catalog {
		if ov.ByCode[e.Code] == 0 {
			t.Errorf("demo estate has no %s", e.Code)
		}
	}
	if ov.LowDisk == 0 || ov.Total != 3000 {
		t.Errorf("low disk %d, total %d", ov.LowDisk, ov.Total)
	}
	checkCounts(t, db)
	// A filtered page agrees with the counters.
	imp := CannotPatch
	p, err := db.List(ctx, Filter{Impact: &imp, Exemptions: []Code{PoweredOff}, PerPage: 500}, true)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(p.Rows)) != p.Total || p.Total == 0 {
		t.Fatalf("rows %d, total %d", len(p.Rows), p.Total)
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	copyDB, err := Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	ov2, _ := copyDB.Overview(ctx)
	if ov2.Total != 3000 {
		t.Fatalf("backup has %d endpoints", ov2.Total)
	}
}

// TestQuietTickWritesNothing: with nothing due, the background clock's tick
// leaves the database (and so every cache keyed on the counters) alone.
func TestQuietTickWritesNothing(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	if err := db.SeedDemo(ctx, 200); err != nil {
		t.Fatal(err)
	}
	if err := db.Tick(ctx); err != nil { // first tick may do real work
		t.Fatal(err)
	}
	version := func() string {
		var v string
		db.r.QueryRow(`SELECT value FROM settings WHERE key = ?`, keyCountsVersion).Scan(&v)
		return v
	}
	before := version()
	clk.advance(time.Second)
	if err := db.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if after := version(); after != before {
		t.Fatalf("a quiet tick wrote: version %s → %s", before, after)
	}
}

// The search box reads the trigram index for terms of three characters or
// more without wildcards, and scans otherwise; both must give the same
// endpoints, and the index must follow changes and bulk seeding.
func TestSearch(t *testing.T) {
	db, _ := MustOpen(t)
	ctx := context.Background()
	ip := func(s string) *string { return &s }
	mustUpsert(t, db, Facts{Name: "web-fra1-0001", IP: ip("10.1.2.3")}, Facts{Name: "db-ams-0002", IP: ip("10.9.8.7")},
		Facts{Name: "x_y-host", IP: ip("10.5.5.5")})
	search := func(q string) []string {
		t.Helper()
		p, err := db.List(ctx, Filter{Q: q}, false)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range p.Rows {
			names = append(names, r.Name)
		}
		if int64(len(names)) != p.Total {
			t.Errorf("q=%q: %d rows, total %d", q, len(names), p.Total)
		}
		return names
	}
	for q, want := range map[string][]string{
		"FRA1":    {"web-fra1-0001"}, // indexed, either case
		"10.9.8":  {"db-ams-0002"},   // indexed, IP
		"db":      {"db-ams-0002"},   // too short for the index: scanned
		"x_y":     {"x_y-host"},      // a wildcard character: scanned, taken literally
		"_":       {"x_y-host"},
		"nomatch": nil,
	} {
		if got := search(q); !reflect.DeepEqual(got, want) {
			t.Errorf("q=%q: %v, want %v", q, got, want)
		}
	}
	mustUpsert(t, db, Facts{Name: "db-ams-0002", IP: ip("10.7.7.7")})
	if got := search("10.9.8"); got != nil {
		t.Errorf("old IP still found: %v", got)
	}
	if got := search("10.7.7"); !reflect.DeepEqual(got, []string{"db-ams-0002"}) {
		t.Errorf("new IP: %v", got)
	}

	// A bulk seed drops the index's triggers and rebuilds it at the end.
	if err := db.Seed(ctx, 20000, 1, nil); err != nil {
		t.Fatal(err)
	}
	var name string
	db.r.QueryRow(`SELECT name FROM endpoints ORDER BY id DESC LIMIT 1`).Scan(&name)
	if got := search(name[2:]); !slices.Contains(got, name) {
		t.Errorf("seeded endpoint %s not found by %q: %v", name, name[2:], got)
	}
	mustUpsert(t, db, Facts{Name: "after-seed-zz9", IP: ip("10.200.1.1")})
	if got := search("seed-zz9"); !reflect.DeepEqual(got, []string{"after-seed-zz9"}) {
		t.Errorf("endpoint added after the seed: %v", got)
	}
}

// Filters read by merging index ranges (merge.go) list exactly the
// endpoints a filter over every row finds, in name order, forwards by the
// Next cursor and backwards by the Previous one.
func TestMergedFilters(t *testing.T) {
	db, _ := MustOpen(t)
	ctx := context.Background()
	if err := db.SeedDemo(ctx, 3000); err != nil {
		t.Fatal(err)
	}
	var all []Row
	if err := db.Each(ctx, Filter{}, false, func(r Row) error { all = append(all, r); return nil }); err != nil {
		t.Fatal(err)
	}
	withCode := func(c Code) map[int64]bool {
		ids := map[int64]bool{}
		rows, _ := db.r.Query(`SELECT endpoint_id FROM endpoint_exemptions WHERE code = ?`, string(c))
		defer rows.Close()
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids[id] = true
		}
		return ids
	}
	cannot, temporarily := CannotPatch, TemporarilyCannotPatch
	one := int64(1)
	for _, f := range []Filter{
		{OS: "windows", Protocol: "web"},
		{OS: "linux", LowDisk: true},
		{Protocol: "smb", LowDisk: true, Impact: &cannot},
		{OS: "windows", Protocol: "web", Schedule: &one},
		{Exemptions: []Code{Disconnected}, OS: "windows"},
		{Exemptions: []Code{MaintenanceWindowExpired}, Impact: &temporarily, Protocol: "ssh"},
		{Exemptions: []Code{PoweredOff}, LowDisk: true},
		{Exemptions: []Code{PoweredOff}, OS: "linux", Schedule: &one},
	} {
		if !f.mergeable() {
			t.Fatalf("%+v is not read by merging", f)
		}
		var want []string
		var codes map[int64]bool
		if len(f.Exemptions) == 1 {
			codes = withCode(f.Exemptions[0])
		}
		for _, r := range all {
			if (codes == nil || codes[r.ID]) && (f.Impact == nil || r.Impact == *f.Impact) && (f.OS == "" || r.OSFamily == f.OS) &&
				(f.Protocol == "" || r.Protocol == f.Protocol) && (!f.LowDisk || r.LowDisk) && (f.Schedule == nil || r.ScheduleID == *f.Schedule) {
				want = append(want, r.Name)
			}
		}
		if len(want) < 3 {
			t.Fatalf("%+v: only %d endpoints in the demo estate; the test needs pages", f, len(want))
		}
		f.PerPage = max(2, len(want)/4) // several pages
		var forward []string
		var last Page
		for g := f; ; {
			p, err := db.Rows(ctx, g, true, -1)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Rows {
				forward = append(forward, r.Name)
				if r.Drives == nil && r.MaxDiskPct != nil {
					t.Fatalf("%+v: %s came without its drives", f, r.Name)
				}
			}
			last = p
			if !p.HasNext {
				break
			}
			g.After, g.Page = p.Rows[len(p.Rows)-1].Name, g.Page+1
		}
		if !reflect.DeepEqual(forward, want) {
			t.Errorf("%+v forwards:\n got %v\nwant %v", f, forward, want)
		}
		// Back from the last page to the first.
		back := append([]string(nil), nameList(last.Rows)...)
		for g, p := f, last; p.HasPrev; {
			g.After, g.Before = "", p.Rows[0].Name
			var err error
			if p, err = db.Rows(ctx, g, false, -1); err != nil {
				t.Fatal(err)
			}
			back = append(nameList(p.Rows), back...)
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("%+v backwards:\n got %v\nwant %v", f, back, want)
		}
	}
}

func nameList(rows []Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	return out
}
