package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The database, its WAL, its folder and every backup are readable by their
// owner only.
func TestFilesOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "p.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustUpsert(t, db, Facts{Name: "perm-1"})
	backup := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600, backup: 0o600}
	for p, mode := range want {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: %v, want %v", filepath.Base(p), st.Mode().Perm(), mode)
		}
	}
	if err := db.Backup(context.Background(), backup); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	// An older installation's files are tightened when opened.
	db.Close()
	os.Chmod(path, 0o644)
	db2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("existing database left %v", st.Mode().Perm())
	}
}

// A full disk is an error the user can act on, not an internal one.
func TestDiskFullIsUnavailable(t *testing.T) {
	db, _ := MustOpen(t)
	ctx := context.Background()
	var pages int
	if err := db.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The writer is one connection: cap its file at the pages it has.
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	items := make([]Facts, 300)
	for i := range items {
		items[i] = Facts{Name: fmt.Sprintf("full-%03d-%s", i, strings.Repeat("x", 200))}
	}
	_, err := db.UpsertFacts(ctx, items)
	if KindOf(err) != Unavailable || err != ErrDiskFull {
		t.Fatalf("err = %v (kind %d)", err, KindOf(err))
	}
	if n, _ := db.Count(ctx, Filter{}); n != 0 {
		t.Fatalf("%d endpoints written", n)
	}
}

// Recording a token's use never makes a read wait for the writer.
func TestTokenUseOffTheRequestPath(t *testing.T) {
	db, _ := MustOpen(t)
	ctx := context.Background()
	secret, err := db.CreateToken(ctx, "test", "sync")
	if err != nil {
		t.Fatal(err)
	}
	// A long write holds the single writer connection.
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('held', '1')`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := db.TokenBySecret(tctx, secret); err != nil {
		t.Fatalf("lookup while a write is held: %v after %v", err, time.Since(start))
	}
	tx.Rollback()
	if err := db.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	tokens, _ := db.Tokens(ctx)
	if tokens[0].LastUsedAt == nil {
		t.Fatal("use not recorded after the flush")
	}
}

// A range shorter than a second is refused as a range, not by a CHECK
// constraint of the database.
func TestSubSecondRanges(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	mustUpsert(t, db, Facts{Name: "short-1"})
	e, _ := db.EndpointByName(ctx, "short-1")
	from := clk.t.Add(time.Hour).Add(200 * time.Millisecond)
	until := from.Add(500 * time.Millisecond)
	_, err := db.Suspend(ctx, "test", Target{IDs: []int64{e.ID}}, SuspendInput{From: &from, Until: &until, Reason: "x"})
	if KindOf(err) != Invalid {
		t.Fatalf("suspension: %v", err)
	}
	id, err := db.CreateSchedule(ctx, "test", ScheduleInput{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	err = db.AddEntry(ctx, "test", id, EntryInput{Start: Wall{from.UTC()}, Duration: until.Sub(from)})
	if KindOf(err) != Invalid {
		t.Fatalf("window: %v", err)
	}
}

// Names that differ only in case are one endpoint, whether they come in one
// batch or in two; the database and the batch check fold case alike.
func TestNameCaseAgreesAcrossBatches(t *testing.T) {
	for _, pair := range [][2]string{{"DB-1", "db-1"}, {"Äpfel-1", "äpfel-1"}, {"kelvin-\u212a", "kelvin-k"}} {
		t.Run(pair[1], func(t *testing.T) {
			db, _ := MustOpen(t)
			ctx := context.Background()
			_, oneBatch := db.UpsertFacts(ctx, []Facts{{Name: pair[0]}, {Name: pair[1]}})
			db2, _ := MustOpen(t)
			mustUpsert(t, db2, Facts{Name: pair[0]})
			mustUpsert(t, db2, Facts{Name: pair[1]})
			separate, _ := db2.Count(ctx, Filter{})
			if (oneBatch != nil) != (separate == 1) {
				t.Fatalf("one batch: %v; separate batches: %d endpoints", oneBatch, separate)
			}
		})
	}
}

// Names and text facts with characters a person cannot see are refused.
func TestHiddenCharactersRefused(t *testing.T) {
	for _, f := range []Facts{
		{Name: "web\u202e1"}, // right-to-left override
		{Name: "web\u200d1"}, // zero-width joiner
		{Name: "web\u00851"}, // C1 next line
		{Name: "web\x1b1"},   // ESC
		{Name: "rack/web-1"}, // no host name has a slash
		{Name: "ok", IP: ptr("10.0.0.1\x00")},
		{Name: "ok", OSName: ptr("Ubuntu\r\n=cmd")},
		{Name: "ok", Drives: []Drive{{Mount: "C:\u2066", TotalBytes: 1}}},
	} {
		if errs := f.Validate(); len(errs) == 0 {
			t.Errorf("%+q accepted", f.Name)
		}
	}
}

// An export reads one snapshot: endpoints written while it runs can neither
// repeat rows nor push others out, in any sort order.
func TestEachIsASnapshot(t *testing.T) {
	db, _ := MustOpen(t)
	ctx := context.Background()
	if err := db.SeedDemo(ctx, 1200); err != nil {
		t.Fatal(err)
	}
	before, _ := db.Count(ctx, Filter{})
	for _, sort := range []string{"", "ip", "last_contact", "disk"} {
		seen := map[string]int{}
		wrote := false
		err := db.Each(ctx, Filter{Sort: sort}, false, func(r Row) error {
			seen[r.Name]++
			if !wrote { // after the first row, add endpoints that sort first
				wrote = true
				items := make([]Facts, 600)
				for i := range items {
					items[i] = Facts{Name: fmt.Sprintf("aaa-%s-%03d", sort, i), IP: ptr(fmt.Sprintf("0.0.%d.%d", i/250, i%250))}
				}
				if _, err := db.UpsertFacts(ctx, items); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, n := range seen {
			if n > 1 {
				t.Fatalf("sort %q: %s exported %d times", sort, name, n)
			}
		}
		if int64(len(seen)) != before {
			t.Fatalf("sort %q: %d rows exported, %d endpoints when it began", sort, len(seen), before)
		}
		before += 600
	}
}
