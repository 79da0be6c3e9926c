package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"patchready/migrations"
	"patchready/store/readmodel"
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

// checkCounts holds the read model kept by every write against one rebuilt
// from the database, record by record, and its counts against SQL's.
func checkCounts(tb testing.TB, db *DB) {
	tb.Helper()
	ctx := context.Background()
	if _, err := db.readModel(ctx); err != nil {
		tb.Fatal(err)
	}
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	fresh := readmodel.New[kept](db.list.schema)
	var maxID uint32
	tx.QueryRow(`SELECT coalesce(max(id), 0) FROM endpoints`).Scan(&maxID)
	if err := fresh.Rebuild(0, loadListed(ctx, db, tx, db.list.schema, maxID)); err != nil {
		tb.Fatal(err)
	}
	if fresh.Len() != db.list.model.Len() {
		tb.Fatalf("kept model has %d endpoints, rebuilt %d", db.list.model.Len(), fresh.Len())
	}
	for id := uint32(0); id < uint32(fresh.Len()*2+10); id++ {
		a, okA := db.list.model.Get(id)
		b, okB := fresh.Get(id)
		text := db.list.schema.text
		if okA != okB || !reflect.DeepEqual(a.listFields, b.listFields) ||
			text.name(a.text) != text.name(b.text) || text.ip(a.text) != text.ip(b.text) {
			tb.Fatalf("endpoint %d: kept %+v %q %q, rebuilt %+v %q %q", id, a, text.name(a.text), text.ip(a.text), b, text.name(b.text), text.ip(b.text))
		}
	}
	ov, err := db.Overview(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var total, low int64
	db.r.QueryRow(`SELECT count(*), coalesce(sum(low_disk), 0) FROM endpoints`).Scan(&total, &low)
	if ov.Total != total || ov.LowDisk != low {
		tb.Fatalf("model says %d endpoints, %d low disk; table has %d, %d", ov.Total, ov.LowDisk, total, low)
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
		tb.Fatalf("exemption counts %v, table %v", ov.ByCode, want)
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

// An up-to-date database opens without the write lock: a backup or a user
// command beside a server under a steady feed does not queue for the writer
// (it used to take the lock once per migration, and under load waited out
// the busy timeout).
func TestOpenUpToDateTakesNoWriteLock(t *testing.T) {
	db, _ := MustOpen(t)
	tx, err := db.w.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	start := time.Now()
	db2, err := Open(context.Background(), db.Path())
	if err != nil {
		t.Fatalf("open while another connection writes: %v", err)
	}
	db2.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("open waited %v for the write lock", d)
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
	err = db.AddEntry(ctx, "alice", id, EntryInput{Start: Wall{start.UTC()}, Duration: 2 * time.Hour, RRule: "FREQ=WEEKLY;COUNT=3"})
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
	// A filtered page agrees with the counts.
	f := Filter{PerPage: 500}
	f.Add(DimImpact, false, CannotPatch.String())
	f.Add(DimExemption, false, string(PoweredOff))
	p, err := db.List(ctx, f, true)
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
		db.r.QueryRow(`SELECT value FROM settings WHERE key = ?`, keyDataVersion).Scan(&v)
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
