package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"patchready/migrations"
)

func wall(t *testing.T, s string) Wall {
	t.Helper()
	w, err := ParseWall(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// windowsOf lists the first n windows of one entry as "start → end" in
// its zone's wall time with the UTC offset.
func windowsOf(t *testing.T, zone, start string, d time.Duration, rule string, n int) []string {
	t.Helper()
	if _, err := ParseRecurrence(rule); err != nil {
		t.Fatal(err)
	}
	s := &Schedule{Timezone: zone, Entries: []ScheduleEntry{{Start: wall(t, start), Duration: d, RRule: rule}}}
	loc := s.Location()
	var out []string
	for _, w := range s.WindowsFrom(time.Time{}, n) {
		out = append(out, w.Start.In(loc).Format("2006-01-02 15:04 -0700")+" → "+w.End.In(loc).Format("2006-01-02 15:04 -0700"))
	}
	return out
}

// Windows keep their wall time across daylight-saving changes, in both
// hemispheres; a time the clocks skip moves forward by the gap.
func TestWindowsAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		name, zone, start string
		d                 time.Duration
		rule              string
		want              []string
	}{
		{"Berlin, Saturdays 02:00 across the spring change (02:00 does not exist on 29 March)", "Europe/Berlin", "2026-03-21T02:00", 2 * time.Hour, "FREQ=WEEKLY;BYDAY=SA", []string{
			"2026-03-21 02:00 +0100 → 2026-03-21 04:00 +0100",
			"2026-03-28 02:00 +0100 → 2026-03-28 04:00 +0100",
			"2026-04-04 02:00 +0200 → 2026-04-04 04:00 +0200",
		}},
		{"Berlin, Sundays 02:30: in the lost hour the window moves forward by the gap, keeping its length", "Europe/Berlin", "2026-03-22T02:30", time.Hour, "FREQ=WEEKLY;BYDAY=SU", []string{
			"2026-03-22 02:30 +0100 → 2026-03-22 03:30 +0100",
			"2026-03-29 03:30 +0200 → 2026-03-29 04:30 +0200",
			"2026-04-05 02:30 +0200 → 2026-04-05 03:30 +0200",
		}},
		{"Berlin, Sundays 22:00 across the autumn change", "Europe/Berlin", "2026-10-18T22:00", 4 * time.Hour, "FREQ=WEEKLY;BYDAY=SU", []string{
			"2026-10-18 22:00 +0200 → 2026-10-19 02:00 +0200",
			"2026-10-25 22:00 +0100 → 2026-10-26 02:00 +0100",
		}},
		{"New York, Sundays 02:30: 8 March has no 02:30", "America/New_York", "2026-03-01T02:30", time.Hour, "FREQ=WEEKLY;BYDAY=SU", []string{
			"2026-03-01 02:30 -0500 → 2026-03-01 03:30 -0500",
			"2026-03-08 03:30 -0400 → 2026-03-08 04:30 -0400",
			"2026-03-15 02:30 -0400 → 2026-03-15 03:30 -0400",
		}},
		{"New York, daily 23:00 for 4 hours, spanning midnight and the autumn change", "America/New_York", "2026-10-31T23:00", 4 * time.Hour, "FREQ=DAILY;COUNT=3", []string{
			"2026-10-31 23:00 -0400 → 2026-11-01 03:00 -0500",
			"2026-11-01 23:00 -0500 → 2026-11-02 03:00 -0500",
			"2026-11-02 23:00 -0500 → 2026-11-03 03:00 -0500",
		}},
		{"Sydney, Sundays 02:30: the southern spring change on 4 October", "Australia/Sydney", "2026-09-27T02:30", time.Hour, "FREQ=WEEKLY;BYDAY=SU;COUNT=3", []string{
			"2026-09-27 02:30 +1000 → 2026-09-27 03:30 +1000",
			"2026-10-04 03:30 +1100 → 2026-10-04 04:30 +1100",
			"2026-10-11 02:30 +1100 → 2026-10-11 03:30 +1100",
		}},
		{"Sydney, first Saturday 20:00 across the April change", "Australia/Sydney", "2026-03-01T20:00", 3 * time.Hour, "FREQ=MONTHLY;BYDAY=1SA;COUNT=2", []string{
			"2026-03-07 20:00 +1100 → 2026-03-07 23:00 +1100",
			"2026-04-04 20:00 +1100 → 2026-04-04 23:00 +1100",
		}},
		{"Sydney after the change", "Australia/Sydney", "2026-04-06T20:00", 3 * time.Hour, "FREQ=MONTHLY;BYDAY=1SA;COUNT=1", []string{
			"2026-05-02 20:00 +1000 → 2026-05-02 23:00 +1000",
		}},
		{"last Saturday of the month", "UTC", "2026-01-01T01:00", 2 * time.Hour, "FREQ=MONTHLY;BYDAY=-1SA", []string{
			"2026-01-31 01:00 +0000 → 2026-01-31 03:00 +0000",
			"2026-02-28 01:00 +0000 → 2026-02-28 03:00 +0000",
			"2026-03-28 01:00 +0000 → 2026-03-28 03:00 +0000",
			"2026-04-25 01:00 +0000 → 2026-04-25 03:00 +0000",
		}},
		{"once", "Europe/Berlin", "2026-12-09T22:00", 4 * time.Hour, "", []string{
			"2026-12-09 22:00 +0100 → 2026-12-10 02:00 +0100",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := windowsOf(t, tt.zone, tt.start, tt.d, tt.rule, len(tt.want)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Patch Tuesday + 1, for every month of a year: the preset's rule lands on
// the Wednesday after the second Tuesday, compared with a count by hand.
func TestPatchTuesdayPlusOneForAYear(t *testing.T) {
	rule, fe := Preset{Kind: "patch-tuesday", Offset: 1}.Rule()
	if fe != nil || rule != "FREQ=MONTHLY;BYDAY=WE;BYMONTHDAY=9,10,11,12,13,14,15" {
		t.Fatalf("rule %q %v", rule, fe)
	}
	got := windowsOf(t, "Europe/Berlin", "2027-01-01T22:00", 4*time.Hour, rule, 12)
	for i, m := 0, time.January; m <= time.December; i, m = i+1, m+1 {
		// The second Tuesday by hand: the first Tuesday is on day 1–7.
		d := time.Date(2027, m, 1, 0, 0, 0, 0, time.UTC)
		for d.Weekday() != time.Tuesday {
			d = d.AddDate(0, 0, 1)
		}
		want := d.AddDate(0, 0, 8).Format("2006-01-02") + " 22:00"
		if i >= len(got) || !strings.HasPrefix(got[i], want) {
			t.Fatalf("month %s: got %v, want %s", m, got, want)
		}
	}
	if DescribeRule(rule) != "every month on Patch Tuesday + 1 (the Wednesday after the second Tuesday)" {
		t.Fatalf("described as %q", DescribeRule(rule))
	}
}

func TestPresetsCompile(t *testing.T) {
	for _, tt := range []struct {
		p     Preset
		want  string
		field string
	}{
		{Preset{Kind: "once"}, "", ""},
		{Preset{Kind: "daily", Count: 5}, "FREQ=DAILY;COUNT=5", ""},
		{Preset{Kind: "weekly", Days: []string{"SA", "SU"}, Until: "2027-06-30"}, "FREQ=WEEKLY;BYDAY=SA,SU;UNTIL=20270630T235959", ""},
		{Preset{Kind: "monthly-day", MonthDay: 15}, "FREQ=MONTHLY;BYMONTHDAY=15", ""},
		{Preset{Kind: "monthly-weekday", Nth: -1, Weekday: "SA"}, "FREQ=MONTHLY;BYDAY=-1SA", ""},
		{Preset{Kind: "monthly-weekday", Nth: 1, Weekday: "SA"}, "FREQ=MONTHLY;BYDAY=1SA", ""},
		{Preset{Kind: "patch-tuesday", Offset: 0}, "FREQ=MONTHLY;BYDAY=TU;BYMONTHDAY=8,9,10,11,12,13,14", ""},
		{Preset{Kind: "custom", Custom: "rrule:freq=weekly;byday=mo"}, "FREQ=WEEKLY;BYDAY=MO", ""},
		{Preset{Kind: "weekly"}, "", "days"},
		{Preset{Kind: "monthly-day", MonthDay: 32}, "", "month_day"},
		{Preset{Kind: "monthly-weekday", Nth: 5, Weekday: "SA"}, "", "nth"},
		{Preset{Kind: "patch-tuesday", Offset: 15}, "", "offset"},
		{Preset{Kind: "daily", Count: 3, Until: "2027-01-01"}, "", "until"},
		{Preset{Kind: "daily", Until: "next year"}, "", "until"},
		{Preset{Kind: "custom", Custom: "FREQ=HOURLY"}, "", "rrule"},
		{Preset{Kind: "custom", Custom: "FREQ=DAILY;BYHOUR=3"}, "", "rrule"},
		{Preset{Kind: "custom", Custom: "FREQ=SOMETIMES"}, "", "rrule"},
		{Preset{Kind: "fortnightly"}, "", "kind"},
	} {
		got, fe := tt.p.Rule()
		field := ""
		if fe != nil {
			field = fe.Field
		}
		if got != tt.want || field != tt.field {
			t.Errorf("%+v: got %q (%s), want %q (%s)", tt.p, got, field, tt.want, tt.field)
		}
	}
}

// Suspension cycles, with an injected clock: the window open when the
// suspension is made is covered for free, then the next N windows count;
// back-dated entries count nothing; a schedule change keeps what was used.
func TestSuspensionCycles(t *testing.T) {
	// Daily windows 10:00–12:00 UTC, from a week before the test's now.
	base := now.UTC().Truncate(24 * time.Hour)
	daily := EntryInput{Start: Wall{base.AddDate(0, 0, -7).Add(10 * time.Hour)}, Duration: 2 * time.Hour, RRule: "FREQ=DAILY"}
	setup := func(t *testing.T, at time.Time) (*DB, *clock, int64, int64) {
		db, clk := MustOpen(t)
		clk.t = at
		ctx := context.Background()
		f, _ := healthy()
		mustUpsert(t, db, f)
		e, _ := db.EndpointByName(ctx, f.Name)
		id, err := db.CreateSchedule(ctx, "test", ScheduleInput{Name: "Daily 10:00", Timezone: "UTC"}, daily)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AssignSchedule(ctx, "test", Target{IDs: []int64{e.ID}}, id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Suspend(ctx, "test", Target{IDs: []int64{e.ID}}, SuspendInput{Cycles: ptr(2), Reason: "freeze"}); err != nil {
			t.Fatal(err)
		}
		return db, clk, e.ID, id
	}
	state := func(t *testing.T, db *DB, id int64) (bool, int) {
		t.Helper()
		if err := db.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		e, _ := db.Endpoint(context.Background(), id)
		return hasExemption(e, SuspendedByUser), *e.Suspension.CyclesRemaining
	}
	for _, tt := range []struct {
		name   string
		madeAt time.Duration // after midnight of the test day
		endsAt time.Duration // when the suspension should end
	}{
		{"made before a window: it and the next count", 8 * time.Hour, 24*time.Hour + 12*time.Hour},
		{"made during a window: it is covered, the next two count", 11 * time.Hour, 2*24*time.Hour + 12*time.Hour},
		{"made after a window: the next two count", 13 * time.Hour, 2*24*time.Hour + 12*time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, clk, ep, sched := setup(t, base.Add(tt.madeAt))
			sc, _ := db.Schedule(context.Background(), sched)
			e, _ := db.Endpoint(context.Background(), ep)
			if end, ok := sc.SuspensionEnd(e.Suspension); !ok || !end.Equal(base.Add(tt.endsAt)) {
				t.Fatalf("predicted end %v %v, want %v", end, ok, base.Add(tt.endsAt))
			}
			clk.t = base.Add(tt.endsAt).Add(-time.Minute)
			if on, left := state(t, db, ep); !on || left != 1 {
				t.Fatalf("a minute before the end: suspended %v, %d left", on, left)
			}
			clk.t = base.Add(tt.endsAt)
			if on, left := state(t, db, ep); on || left != 0 {
				t.Fatalf("at the end: suspended %v, %d left", on, left)
			}
			checkCounts(t, db)
		})
	}

	t.Run("a back-dated entry uses up no cycle", func(t *testing.T) {
		db, clk, ep, sched := setup(t, base.Add(13*time.Hour))
		clk.t = base.Add(23 * time.Hour)
		// Added at 23:00, a window from 14:00 to 16:00 today: already past.
		ctx := context.Background()
		if err := db.AddEntry(ctx, "test", sched, EntryInput{Start: Wall{base.Add(14 * time.Hour)}, Duration: 2 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		if on, left := state(t, db, ep); !on || left != 2 {
			t.Fatalf("after a back-dated entry: suspended %v, %d left", on, left)
		}
	})

	t.Run("a schedule change keeps the cycles used", func(t *testing.T) {
		db, clk, ep, _ := setup(t, base.Add(8*time.Hour))
		ctx := context.Background()
		// Today's window passes (one used), then the endpoint moves to a
		// schedule whose windows are at 20:00 — without a tick in between.
		clk.t = base.Add(13 * time.Hour)
		evening, err := db.CreateSchedule(ctx, "test", ScheduleInput{Name: "Evenings", Timezone: "UTC"},
			EntryInput{Start: Wall{base.AddDate(0, 0, -3).Add(20 * time.Hour)}, Duration: time.Hour, RRule: "FREQ=DAILY"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AssignSchedule(ctx, "test", Target{IDs: []int64{ep}}, evening); err != nil {
			t.Fatal(err)
		}
		if on, left := state(t, db, ep); !on || left != 1 {
			t.Fatalf("after the move: suspended %v, %d left", on, left)
		}
		// The old schedule's 10:00 window no longer counts; tonight's does.
		clk.t = base.Add(24*time.Hour + 12*time.Hour)
		if on, left := state(t, db, ep); on || left != 0 {
			t.Fatalf("after tonight's window: suspended %v, %d left", on, left)
		}
	})
}

func hasExemption(e *Endpoint, code Code) bool {
	for _, x := range e.Exemptions {
		if x.Code == code {
			return true
		}
	}
	return false
}

// A database with the first round's schedules (UTC, weekly until a date)
// migrates to calendars without moving any window.
func TestMigrateSchedulesKeepsEveryWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	if _, err := raw.Exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		v, _ := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if v >= 11 {
			break
		}
		body, _ := fs.ReadFile(migrations.FS, name)
		if _, err := raw.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw.Exec(`INSERT INTO schema_version VALUES (?, ?, 0)`, v, name)
	}
	start := time.Date(2026, 3, 1, 1, 30, 15, 0, time.UTC) // seconds and a DST month, in UTC
	until := start.Add(10 * week)
	for _, q := range []string{
		`INSERT INTO schedules (id, name, description, cycles_counted_until, created_at) VALUES (1, 'Weekly', '', 0, 0)`,
		fmt.Sprintf(`INSERT INTO schedule_entries (schedule_id, starts_at, ends_at, repeat_weekly, repeat_until) VALUES (1, %d, %d, 1, %d)`,
			start.Unix(), start.Add(150*time.Minute).Unix(), until.Unix()),
		fmt.Sprintf(`INSERT INTO schedule_entries (schedule_id, starts_at, ends_at, repeat_weekly, repeat_until) VALUES (1, %d, %d, 0, NULL)`,
			start.Add(3*24*time.Hour).Unix(), start.Add(3*24*time.Hour+time.Hour).Unix()),
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sc, err := db.Schedule(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var want []Window
	for i := 0; i <= 10; i++ {
		s := start.Add(time.Duration(i) * week)
		want = append(want, Window{s, s.Add(150 * time.Minute)})
	}
	want = append(want, Window{start.Add(3 * 24 * time.Hour), start.Add(3*24*time.Hour + time.Hour)})
	sort.Slice(want, func(i, j int) bool { return want[i].Start.Before(want[j].Start) })
	got := sc.WindowsFrom(time.Time{}, 100)
	if len(got) != len(want) {
		t.Fatalf("%d windows after the migration, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Fatalf("window %d: %v, want %v", i, got[i], want[i])
		}
	}
	if sc.Timezone != "UTC" {
		t.Fatalf("zone %q", sc.Timezone)
	}
}
