package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// Undo of an "all matching" action gives back exactly what it changed:
// endpoints that already had the new state keep it, endpoints changed again
// since are left alone, and the undo is audited once.
func TestUndoRestoresExactlyWhatChanged(t *testing.T) {
	db, _ := MustOpen(t)
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		f, _ := healthy()
		f.Name = fmt.Sprintf("web-%02d", i)
		mustUpsert(t, db, f)
		e, _ := db.EndpointByName(ctx, f.Name)
		ids = append(ids, e.ID)
	}
	sched, err := db.CreateSchedule(ctx, "alice", ScheduleInput{Name: "Nightly"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateSchedule(ctx, "alice", ScheduleInput{Name: "Weekend"})
	if err != nil {
		t.Fatal(err)
	}
	// web-00 is suspended by bob already; web-01 already has the schedule.
	if _, err := db.Suspend(ctx, "bob", Target{IDs: ids[:1]}, SuspendInput{Cycles: ptr(3), Reason: "freeze"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AssignSchedule(ctx, "bob", Target{IDs: ids[1:2]}, sched); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, db, ids)

	f := Filter{Q: []string{"web-"}}
	res, err := db.AssignSchedule(ctx, "alice", Target{Filter: &f, Scope: "q=web-"}, sched)
	if err != nil || res.Changed != 4 || res.AuditID == 0 {
		t.Fatalf("assign: %+v %v", res, err)
	}
	sus, err := db.Suspend(ctx, "alice", Target{Filter: &f, Scope: "q=web-"}, SuspendInput{Cycles: ptr(1), Reason: "patch night"})
	if err != nil || sus.Changed != 5 {
		t.Fatalf("suspend: %+v %v", sus, err)
	}
	// Someone moves web-04 again after the bulk assignment.
	if _, err := db.AssignSchedule(ctx, "carol", Target{IDs: ids[4:5]}, other); err != nil {
		t.Fatal(err)
	}

	// Undo the suspension first: bob's own suspension of web-00 comes back.
	if u, err := db.Undo(ctx, "alice", sus.AuditID); err != nil || u.Restored != 5 {
		t.Fatalf("undo suspend: %+v %v", u, err)
	}
	if u, err := db.Undo(ctx, "alice", res.AuditID); err != nil || u.Restored != 3 || u.Skipped != 1 {
		t.Fatalf("undo assign: %+v %v", u, err)
	}
	after := snapshot(t, db, ids)
	want := before
	want[ids[4]] = after[ids[4]] // carol's later change stays
	if !reflect.DeepEqual(after, want) {
		t.Fatalf("after undo\n got %v\nwant %v", after, want)
	}
	if got := after[ids[4]]; got.schedule != other {
		t.Fatalf("carol's change was undone: %+v", got)
	}
	if _, err := db.Undo(ctx, "alice", res.AuditID); KindOf(err) != Conflict {
		t.Fatalf("second undo: %v", err)
	}
	entries, err := db.Audit(ctx, AuditFilter{Action: "undo"})
	if err != nil || len(entries) != 2 {
		t.Fatalf("undo entries: %v %v", entries, err)
	}
	var scope string
	if err := db.r.QueryRow(`SELECT scope FROM audit_log WHERE id = ?`, res.AuditID).Scan(&scope); err != nil || scope != "q=web-" {
		t.Fatalf("scope kept: %q %v", scope, err)
	}
	// A filter that matches another number than the one confirmed is
	// refused inside the transaction: nothing is written.
	if _, err := db.Unsuspend(ctx, "alice", Target{Filter: &f, Expect: 4}); KindOf(err) != Conflict {
		t.Fatalf("unexpected count: %v", err)
	}
	if _, err := db.Undo(ctx, "alice", 9999); KindOf(err) != NotFound {
		t.Fatalf("missing entry: %v", err)
	}
	checkCounts(t, db)
}

type handSet struct {
	schedule   int64
	suspension string
}

func snapshot(t *testing.T, db *DB, ids []int64) map[int64]handSet {
	t.Helper()
	out := map[int64]handSet{}
	for _, id := range ids {
		e, err := db.Endpoint(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = handSet{schedule: e.ScheduleID, suspension: e.Suspension.String()}
	}
	return out
}

// A suspension whose cycles the clock has counted since is still the one
// the action made: Undo takes it back.
func TestUndoAfterCyclesWereCounted(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	f, _ := healthy()
	mustUpsert(t, db, f)
	e, _ := db.EndpointByName(ctx, f.Name)
	start := Wall{clk.t.UTC().Truncate(time.Hour).Add(2 * time.Hour)}
	id, err := db.CreateSchedule(ctx, "t", ScheduleInput{Name: "Daily"}, EntryInput{Start: start, Duration: time.Hour, RRule: "FREQ=DAILY"})
	if err != nil {
		t.Fatal(err)
	}
	db.AssignSchedule(ctx, "t", Target{IDs: []int64{e.ID}}, id)
	res, err := db.Suspend(ctx, "t", Target{IDs: []int64{e.ID}}, SuspendInput{Cycles: ptr(3), Reason: "freeze"})
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(4 * time.Hour) // the first window has ended
	if err := db.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if e, _ := db.Endpoint(ctx, e.ID); *e.Suspension.CyclesRemaining != 2 {
		t.Fatalf("cycles left %d", *e.Suspension.CyclesRemaining)
	}
	if u, err := db.Undo(ctx, "t", res.AuditID); err != nil || u.Restored != 1 {
		t.Fatalf("undo after a counted cycle: %+v %v", u, err)
	}
	if e, _ := db.Endpoint(ctx, e.ID); e.Suspension != nil {
		t.Fatal("still suspended after the undo")
	}
}
