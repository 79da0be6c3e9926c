package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Generator makes realistic endpoint facts for demos and load tests. With
// the same seed it makes the same estate.
type Generator struct {
	rnd *rand.Rand
	now time.Time
}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64, now time.Time) *Generator {
	return &Generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now.UTC().Truncate(time.Second)}
}

func (g *Generator) chance(p float64) bool { return g.rnd.Float64() < p }

func (g *Generator) pick(options ...string) string { return options[g.rnd.IntN(len(options))] }

var (
	linuxRoles   = []string{"web", "app", "db", "cache", "k8s-node", "mq", "proxy", "build", "log", "mail"}
	windowsRoles = []string{"sql", "iis", "dc", "file", "rds", "exch", "app", "print"}
	sites        = []string{"fra1", "ams2", "lon1", "nyc3", "sfo2", "sgp1"}
	teams        = []string{"platform", "payments", "data", "web", "identity", "billing", "search", "mobile"}
	linuxOS      = []string{"Ubuntu 22.04 LTS", "Ubuntu 24.04 LTS", "Red Hat Enterprise Linux 9.4", "Red Hat Enterprise Linux 8.10", "Rocky Linux 9.4", "Debian 12", "SUSE Linux Enterprise Server 15 SP6"}
	windowsOS    = []string{"Windows Server 2022 Datacenter", "Windows Server 2019 Standard", "Windows Server 2016 Standard", "Windows Server 2025 Standard"}
	legacyOS     = []string{"CentOS 6.10", "Windows Server 2008 R2", "Ubuntu 14.04 LTS", "Solaris 10"}
)

const gib = 1 << 30

// Facts makes the facts of the n-th endpoint.
func (g *Generator) Facts(n int64) Facts {
	b := func(p float64) *bool { v := g.chance(p); return &v }
	s := func(v string) *string { return &v }
	ago := func(d time.Duration) *time.Time { t := g.now.Add(-d).Truncate(time.Second); return &t }
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+g.rnd.IntN(hi-lo+1)) * time.Minute }

	f := Facts{Managed: b(0.985), PlatformSupported: b(0.985)}
	site := sites[g.rnd.IntN(len(sites))]
	ip := fmt.Sprintf("10.%d.%d.%d", 16+n/65536%16, n/256%256, n%256)
	f.IP = &ip
	var role string
	if g.chance(0.6) {
		role = g.pick(linuxRoles...)
		f.Name = fmt.Sprintf("%s-%s-%07d", role, site, n)
		f.OSFamily, f.OSName = s("linux"), s(g.pick(linuxOS...))
		f.Protocol = s("ssh")
		if g.chance(0.15) {
			f.Protocol = s("web")
		}
		f.SubscriptionValid = b(0.975)
		f.Drives = []Drive{g.drive("/", 40, 120), g.drive("/var", 20, 200)}
		if g.chance(0.4) {
			f.Drives = append(f.Drives, g.drive("/data", 200, 4000))
		}
	} else {
		role = g.pick(windowsRoles...)
		f.Name = fmt.Sprintf("win-%s-%s-%07d", role, site, n)
		f.OSFamily, f.OSName = s("windows"), s(g.pick(windowsOS...))
		f.Protocol = s("smb")
		if g.chance(0.25) {
			f.Protocol = s("web")
		}
		f.PSExecutionPolicy = s("RemoteSigned")
		switch r := g.rnd.Float64(); {
		case r < 0.02:
			f.PSExecutionPolicy = s("AllSigned")
		case r < 0.035:
			f.PSExecutionPolicy = s("Restricted")
		case r < 0.1:
			f.PSExecutionPolicy = s("Unrestricted")
		}
		v := 5
		if g.chance(0.02) {
			v = 2
		}
		f.PSVersion = &v
		f.WSUSLastReportAt = ago(minutes(30, 20*60))
		if g.chance(0.03) {
			f.WSUSLastReportAt = ago(minutes(25*60, 10*24*60))
		}
		f.Drives = []Drive{g.drive("C:", 80, 250)}
		if g.chance(0.7) {
			f.Drives = append(f.Drives, g.drive("D:", 100, 2000))
		}
	}
	if !*f.PlatformSupported {
		f.OSName = s(g.pick(legacyOS...))
	}
	f.Credentials = s("valid")
	switch r := g.rnd.Float64(); {
	case r < 0.025:
		f.Credentials = s("invalid")
	case r < 0.05:
		f.Credentials = s("unknown")
	}
	f.Connector = s("running")
	switch r := g.rnd.Float64(); {
	case r < 0.04:
		f.Connector = s("none")
	case r < 0.065:
		f.Connector = s("stopped")
	}
	f.Reachable = b(0.975)
	f.Connection = s("ok")
	if g.chance(0.03) {
		f.Connection = s("failed")
	}
	f.LastContactAt = ago(minutes(0, 45))
	if g.chance(0.03) {
		f.LastContactAt = ago(minutes(90, 3*24*60))
	}
	f.Power = s("on")
	switch r := g.rnd.Float64(); {
	case r < 0.02:
		f.Power = s("off")
	case r < 0.03:
		f.Power = s("suspended")
	case r < 0.04:
		f.Power = s("unknown")
	}
	f.VMFrozen = b(0.005)
	f.AdvisoriesPresent, f.PackagesPresent, f.RepositoriesOK = b(0.985), b(0.99), b(0.985)
	if g.chance(0.05) {
		f.RebootRequiredSince = ago(minutes(60, 3*24*60))
	}
	f.LastWindowTimedOut = b(0.02)
	f.Labels = g.labels(site, role)
	f.normalize()
	return f
}

// labels gives an endpoint 4–6 labels as a CMDB would: environment (mostly
// production), site, role, owning team (a few teams own most), and now and
// then a tier and the bare label "legacy".
func (g *Generator) labels(site, role string) []string {
	env := "prod"
	switch r := g.rnd.Float64(); {
	case r < 0.15:
		env = "dev"
	case r < 0.4:
		env = "staging"
	}
	team := teams[min(int(g.rnd.ExpFloat64()*2), len(teams)-1)]
	labels := []string{"env:" + env, "site:" + site, "role:" + role, "team:" + team}
	if g.chance(0.5) {
		labels = append(labels, fmt.Sprintf("tier:%d", 1+g.rnd.IntN(3)))
	}
	if g.chance(0.05) {
		labels = append(labels, "legacy")
	}
	slices.Sort(labels)
	return labels
}

func (g *Generator) drive(mount string, minGiB, maxGiB int) Drive {
	total := int64(minGiB+g.rnd.IntN(maxGiB-minGiB+1)) * gib
	pct := 0.15 + g.rnd.Float64()*0.7
	if g.chance(0.04) {
		pct = 0.9 + g.rnd.Float64()*0.09
	}
	return Drive{Mount: mount, TotalBytes: total, UsedBytes: int64(float64(total) * pct)}
}

// State makes the dashboard-owned state of a generated endpoint: mostly a
// schedule out of scheduleIDs, sometimes a suspension.
func (g *Generator) State(scheduleIDs []int64) (int64, *Suspension) {
	var sched int64
	if len(scheduleIDs) > 0 && g.chance(0.88) {
		// The first schedule is the main one; the others share the rest.
		if g.chance(0.7) {
			sched = scheduleIDs[0]
		} else {
			sched = scheduleIDs[g.rnd.IntN(len(scheduleIDs))]
		}
	}
	if !g.chance(0.02) {
		return sched, nil
	}
	s := &Suspension{Reason: g.pick("Quarter-end freeze", "Vendor support case open", "Application owner request", "Migration in progress"),
		CreatedBy: "admin", CreatedAt: g.now.Add(-48 * time.Hour)}
	if g.chance(0.5) {
		c := 1 + g.rnd.IntN(3)
		s.CyclesRemaining = &c
	} else {
		from, until := g.now.Add(-24*time.Hour), g.now.Add(time.Duration(2+g.rnd.IntN(20))*24*time.Hour)
		s.From, s.Until = &from, &until
	}
	return sched, s
}

// Progress is told how many endpoints are done so far.
type Progress func(done, total int)

// Seed adds n generated endpoints quickly: rules evaluated in Go, rows
// inserted with prepared statements in large transactions, and for large
// runs the secondary indexes dropped first and built once at the end.
func (db *DB) Seed(ctx context.Context, n int, seed uint64, progress Progress) (err error) {
	schedules, err := db.Schedules(ctx)
	if err != nil {
		return err
	}
	// Reader connections open before a bulk load this size keep reading a
	// query's pages from the file afterwards instead of from their cache
	// (a list page query: 150 µs, against 50 µs on connections opened
	// after it), so they are replaced once the load and index builds are done.
	defer db.renewReaders()
	var schedIDs []int64 // in creation order: the first is the main one
	for _, s := range schedules {
		schedIDs = append(schedIDs, s.ID)
	}
	slices.Sort(schedIDs)
	var first int64
	if err := db.w.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM endpoints`).Scan(&first); err != nil {
		return err
	}
	if n >= 20000 {
		restore, err := db.dropIndexes(ctx)
		if err != nil {
			return err
		}
		defer func() {
			if rerr := restore(); err == nil {
				err = rerr
			}
		}()
	}
	// The generated rows are consistent by construction, and batches of
	// different tables fill at different rates: foreign keys are not checked
	// while they go in (the writer is a single connection, so this pragma
	// holds for the whole run).
	// A large page cache while loading: the name index is filled in
	// random order.
	if _, err := db.w.ExecContext(ctx, `PRAGMA foreign_keys = OFF; PRAGMA cache_size = -262144; PRAGMA threads = 2`); err != nil {
		return err
	}
	defer db.w.ExecContext(context.Background(), `PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192; PRAGMA threads = 0`)
	// Batches are generated (facts, rules, rows) on one goroutine while the
	// previous one is written on this one: the two take about the same time,
	// and the machine has a core for each.
	plans := make(map[int64]Plan, len(schedules))
	for i := range schedules {
		plans[schedules[i].ID] = PlanOf(&schedules[i])
	}
	g := NewGenerator(seed+uint64(first), db.now())
	set, now := db.Settings(), db.now()
	// The demo's feeds: a connector for most facts, the hypervisor for
	// power, the CMDB for labels. Each feeds every seeded endpoint.
	var feeds [3]int64
	for i, name := range []string{"connector-sync", "vcenter-sync", "cmdb-export"} {
		if err := db.w.QueryRowContext(ctx, `INSERT INTO sources (name, first_report_at, last_report_at, reports, endpoints) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET last_report_at = excluded.last_report_at, reports = reports + excluded.reports,
			endpoints = endpoints + excluded.endpoints RETURNING id`, name, now.Add(-90*24*time.Hour).Unix(), now.Add(-time.Duration(i)*7*time.Minute).Unix(), n, n).Scan(&feeds[i]); err != nil {
			return err
		}
	}
	const chunk = 25000
	batches := make(chan *seedBatch, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(batches)
		for done := 0; done < n; done += chunk {
			b := g.batch(first+int64(done), min(chunk, n-done), schedIDs, plans, set, now, db.list.schema, feeds)
			select {
			case batches <- b:
			case <-stop:
				return
			}
		}
	}()
	done := 0
	for b := range batches {
		if err = db.update(ctx, b.insert); err != nil {
			return err
		}
		done += b.n
		if progress != nil {
			progress(done, n)
		}
	}
	return err
}

// seedBatch is a batch of generated endpoints as the rows of each table.
type seedBatch struct {
	n                                          int
	endpoints, drives, exemptions, suspensions []any // rows one after another
	listed                                     map[int64]*listed
}

// batch generates n endpoints from firstID on, with ids in name order (the
// unique name index then fills in runs instead of at random).
func (g *Generator) batch(firstID int64, n int, schedIDs []int64, plans map[int64]Plan, set Settings, now time.Time, schema *listSchema, feeds [3]int64) *seedBatch {
	b := &seedBatch{n: n, listed: make(map[int64]*listed, n)}
	facts := make([]Facts, n)
	for i := range facts {
		facts[i] = g.Facts(firstID + int64(i))
	}
	slices.SortFunc(facts, func(a, b Facts) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	stamp := now.Unix()
	for i := range facts {
		id, f := firstID+int64(i), &facts[i]
		sched, susp := g.State(schedIDs)
		// Reported within the last hours; one endpoint in 40 has gone
		// quiet for two days (its facts are stale).
		reported := now.Add(-time.Duration(id*7919%21600) * time.Second).Truncate(time.Second)
		if id%40 == 0 {
			reported = reported.Add(-48 * time.Hour)
		}
		r := Evaluate(f, State{Suspension: susp, Plan: plans[sched], ReportedAt: reported}, set, now)
		var recheck, schedule, primary any
		if !r.RecheckAt.IsZero() {
			recheck = r.RecheckAt.Unix()
		}
		if sched != 0 {
			schedule = sched
		}
		if p := r.Primary(); p != "" {
			primary = string(p)
		}
		power, _ := FieldOf("power")
		labels, _ := FieldOf("labels")
		at := reported.Unix()
		sources := fmt.Sprintf("[[%d,%d,%d],[%d,%d,%d],[%d,%d,%d]]", feeds[0], at-300, AllFacts&^power&^labels, feeds[1], at, power, feeds[2], at-3600, labels)
		b.endpoints = append(append(append(b.endpoints, id), factArgs(f)...), packDrives(f.Drives), schedule, primary,
			max(len(r.Exemptions)-1, 0), r.Impact, r.MaxDiskPct, r.LowDisk, r.StaleFacts, recheck, stamp, stamp, at, sources)
		for _, d := range f.Drives {
			b.drives = append(b.drives, id, d.Mount, d.TotalBytes, d.UsedBytes)
		}
		// Exemptions began hours to two months ago, so that "blocked for
		// more than N days" finds some.
		since := stamp - id*102713%(60*24*3600)
		var blockedStamp int64
		if len(r.Exemptions) > 0 && r.Impact != Patchable {
			blockedStamp = since
		}
		for pos, e := range r.Exemptions {
			b.exemptions = append(b.exemptions, id, string(e.Code), pos, since, e.Evidence)
		}
		e := schema.listedOf(f, nil, sched, r.Codes(), r.Primary(), r.Impact, r.MaxDiskPct, r.LowDisk, r.StaleFacts, blockedStamp)
		b.listed[id] = &e
		if susp != nil {
			b.suspensions = append(b.suspensions, id, susp.CyclesRemaining, unix(susp.From), unix(susp.Until), susp.Reason,
				susp.CreatedBy, susp.CreatedAt.Unix(), countedTo(susp))
		}
	}
	return b
}

// insert writes the batch, and gives the read model its endpoints.
func (b *seedBatch) insert(t *txn) error {
	for _, table := range []struct {
		head string
		cols int
		rows []any
	}{
		{`INSERT INTO endpoints (id, ` + factColumns + `, drives_packed, schedule_id, primary_code, more_count, impact,
			max_disk_pct, low_disk, stale_facts, recheck_at, facts_updated_at, created_at, reported_at, fact_sources)`, factCount + 14, b.endpoints},
		{`INSERT INTO drives (endpoint_id, mount, total_bytes, used_bytes)`, 4, b.drives},
		{`INSERT INTO endpoint_exemptions (endpoint_id, code, position, since, evidence)`, 5, b.exemptions},
		{`INSERT INTO suspensions (endpoint_id, cycles_remaining, from_at, until_at, reason, created_by, created_at, counted_to)`, 8, b.suspensions},
	} {
		ins := t.bulk(table.head, table.cols)
		for i := 0; i < len(table.rows); i += table.cols {
			if err := ins.add(table.rows[i : i+table.cols]...); err != nil {
				return err
			}
		}
		if err := ins.flush(); err != nil {
			return err
		}
	}
	maps.Copy(t.changed, b.listed)
	return nil
}

// bulkInsert writes rows many at a time: one statement with many VALUES
// tuples costs far less per row than one statement per row.
type bulkInsert struct {
	t     *txn
	head  string
	cols  int
	rows  int
	args  []any
	full  *sql.Stmt // prepared for a full batch
	limit int
}

func (t *txn) bulk(head string, cols int) *bulkInsert {
	// SQLite allows 32766 parameters per statement.
	return &bulkInsert{t: t, head: head, cols: cols, limit: min(32766/cols, 500)}
}

func (b *bulkInsert) add(values ...any) error {
	b.args = append(b.args, values...)
	if b.rows++; b.rows == b.limit {
		return b.flush()
	}
	return nil
}

func (b *bulkInsert) flush() error {
	if b.rows == 0 {
		return nil
	}
	tuple := "(" + placeholders(b.cols) + ")"
	query := b.head + " VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", b.rows), ", ")
	var err error
	if b.rows == b.limit {
		if b.full == nil {
			if b.full, err = b.t.Prepare(query); err != nil {
				return err
			}
		}
		_, err = b.full.Exec(b.args...)
	} else {
		_, err = b.t.Exec(query, b.args...)
	}
	b.rows, b.args = 0, b.args[:0]
	return err
}

// dropIndexes drops the secondary indexes of the endpoint tables and
// returns a function that builds them again from their stored definitions.
func (db *DB) dropIndexes(ctx context.Context) (func() error, error) {
	rows, err := db.w.QueryContext(ctx, `SELECT type || ' ' || name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')
		AND sql IS NOT NULL AND tbl_name IN ('endpoints', 'drives', 'endpoint_exemptions')`)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, n), append(defs, d)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.w.ExecContext(ctx, `DROP `+n); err != nil {
			return nil, err
		}
	}
	return func() error {
		for _, d := range defs {
			if _, err := db.w.ExecContext(context.Background(), d); err != nil {
				return fmt.Errorf("rebuild index: %w", err)
			}
		}
		// Statistics for the query planner, from a sample: exact ones would
		// cost more than the index builds at a million endpoints.
		_, err := db.w.ExecContext(context.Background(), `PRAGMA analysis_limit = 1000; ANALYZE`)
		return err
	}, nil
}

// SeedDemo fills an empty database with a demo estate: a few schedules in
// every state and n endpoints, among which every exemption and the low-disk
// warning occur.
func (db *DB) SeedDemo(ctx context.Context, n int) error {
	if _, err := db.DemoSchedules(ctx); err != nil {
		return err
	}
	return db.Seed(ctx, n, 42, nil)
}

// DemoSchedules creates a few schedules in every state (running weekly,
// not started yet, expired, without windows) when there are none, so that
// seeded endpoints have schedules to be assigned to. It reports whether it
// created them.
func (db *DB) DemoSchedules(ctx context.Context) (bool, error) {
	existing, err := db.Schedules(ctx)
	if err != nil || len(existing) > 0 {
		return false, err
	}
	now := db.now()
	// A wall time some days from now (negative: ago) at a local hour.
	at := func(zone string, days, hour int) Wall {
		loc, _ := time.LoadLocation(zone)
		y, m, d := now.In(loc).Date()
		return Wall{time.Date(y, m, d+days, hour, 0, 0, 0, time.UTC)}
	}
	type sched struct {
		name, desc, zone string
		entries          []EntryInput
	}
	plans := []sched{
		{"Linux prod: Sundays 02:00–06:00 Berlin", "Weekly window for production Linux servers, Berlin wall time all year.", "Europe/Berlin",
			[]EntryInput{{Start: at("Europe/Berlin", -90, 2), Duration: 4 * time.Hour, RRule: "FREQ=WEEKLY;BYDAY=SU"}}},
		{"Windows: Patch Tuesday + 1, 22:00 Berlin", "Windows servers, the Wednesday after Microsoft's monthly release (the second Tuesday).", "Europe/Berlin",
			[]EntryInput{{Start: at("Europe/Berlin", -120, 22), Duration: 4 * time.Hour, RRule: "FREQ=MONTHLY;BYDAY=WE;BYMONTHDAY=9,10,11,12,13,14,15"}}},
		{"US datacenter: first Saturday 23:00 New York", "Monthly window for the New York racks.", "America/New_York",
			[]EntryInput{{Start: at("America/New_York", -100, 23), Duration: 5 * time.Hour, RRule: "FREQ=MONTHLY;BYDAY=1SA"}}},
		{"Q1 rollout: one window next month", "New estate joining in the first quarter; its only window is ahead.", "UTC",
			[]EntryInput{{Start: at("UTC", 30, 20), Duration: 6 * time.Hour}}},
		{"Legacy 2025: ended", "Old weekly schedule whose windows have all ended.", "UTC",
			[]EntryInput{{Start: at("UTC", -400, 2), Duration: 4 * time.Hour, RRule: "FREQ=WEEKLY;UNTIL=" + at("UTC", -60, 0).Format("20060102T150405")}}},
		{"Unplanned: no windows yet", "Created but never given a window.", "UTC", nil},
	}
	for _, p := range plans {
		if _, err := db.CreateSchedule(ctx, "demo", ScheduleInput{Name: p.name, Description: p.desc, Timezone: p.zone}, p.entries...); err != nil {
			return false, err
		}
	}
	return true, nil
}
