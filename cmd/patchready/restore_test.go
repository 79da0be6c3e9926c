package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"patchready/store"
)

// The disaster-recovery drill: back up while sources keep writing,
// restore into a fresh folder, start on it, and find every write that was
// acknowledged before the backup began.
func TestBackupRestoreDrill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "live", "p.db")
	db, err := store.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	bit, _ := store.FieldOf("power")
	var mu sync.Mutex
	var acked []string // names whose write returned
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // a source writing as fast as it can
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			on := "on"
			name := fmt.Sprintf("host-%05d", i)
			if _, err := db.ReportFacts(ctx, "load", []store.Patch{{Facts: store.Facts{Name: name, Power: &on}, Present: bit}}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			acked = append(acked, name)
			mu.Unlock()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(dir, "backup.db")
	var out bytes.Buffer
	if err := run(ctx, []string{"backup", backup, "--db", live}, strings.NewReader(""), &out, &out, func(string) string { return "" }); err != nil {
		t.Fatalf("backup under load: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // writes go on after the backup
	close(stop)
	<-done
	db.Close()
	if len(before) < 10 {
		t.Fatalf("only %d writes before the backup", len(before))
	}

	fresh := filepath.Join(dir, "fresh", "p.db")
	if err := run(ctx, []string{"restore", backup, "--db", fresh}, strings.NewReader(""), &out, &out, func(string) string { return "" }); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored file: %v %v", fi.Mode(), err)
	}
	restored, err := store.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if err := restored.BuildReadModel(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range before {
		if _, err := restored.EndpointByName(ctx, name); err != nil {
			t.Fatalf("%s, acknowledged before the backup, is missing after the restore: %v", name, err)
		}
	}
	n, _ := restored.Count(ctx, store.Filter{})
	t.Logf("%d writes acknowledged before the backup; %d endpoints restored", len(before), n)

	// Never over a database in use; an existing one only with --force.
	release, err := store.LockServer(fresh)
	if err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"restore", backup, "--db", fresh, "--force"}, strings.NewReader(""), &out, &out, func(string) string { return "" })
	release()
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("restore over a database in use: %v", err)
	}
	restored.Close()
	if err := run(ctx, []string{"restore", backup, "--db", fresh}, strings.NewReader(""), &out, &out, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over an existing database without --force: %v", err)
	}
	if err := run(ctx, []string{"restore", backup, "--db", fresh, "--force"}, strings.NewReader(""), &out, &out, func(string) string { return "" }); err != nil {
		t.Fatalf("restore with --force: %v", err)
	}
	// A damaged backup is refused before anything is touched.
	bad := filepath.Join(dir, "bad.db")
	os.WriteFile(bad, []byte("SQLite format 3\x00 but not really"), 0o600)
	if err := run(ctx, []string{"restore", bad, "--db", filepath.Join(dir, "other", "p.db")}, strings.NewReader(""), &out, &out, func(string) string { return "" }); err == nil {
		t.Fatal("a damaged backup was restored")
	}
	if _, err := os.Stat(filepath.Join(dir, "other", "p.db")); err == nil {
		t.Fatal("a refused restore left a database")
	}
}
