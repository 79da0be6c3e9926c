package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func fieldSet(t *testing.T, names ...string) FieldSet {
	t.Helper()
	var s FieldSet
	for _, n := range names {
		b, ok := FieldOf(n)
		if !ok {
			t.Fatalf("no fact %s", n)
		}
		s |= b
	}
	return s
}

// A PATCH changes the facts present, clears those sent as null, leaves the
// rest; a new name creates the endpoint; a bad item writes nothing; each
// fact remembers who reported it and when.
func TestPatchMerge(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	f, _ := healthy()
	if _, err := db.ReportFacts(ctx, "inventory", whole([]Facts{f})); err != nil {
		t.Fatal(err)
	}
	start := clk.t
	off, web := "off", "web"
	get := func(name string) *Endpoint {
		t.Helper()
		e, err := db.EndpointByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	steps := []struct {
		name   string
		source string
		items  []Patch
		check  func(t *testing.T)
	}{
		{"a present field changes, the others stay", "vcenter-sync",
			[]Patch{{Facts: Facts{Name: f.Name, Power: &off}, Present: fieldSet(t, "power")}}, func(t *testing.T) {
				e := get(f.Name)
				if *e.Power != "off" || *e.Protocol != "ssh" || e.Managed == nil || !hasExemption(e, PoweredOff) {
					t.Fatalf("after power=off: %+v", e.Facts)
				}
				if e.Sources["power"].Source != "vcenter-sync" || e.Sources["protocol"].Source != "inventory" ||
					!e.Sources["power"].ReportedAt.Equal(start.Add(time.Minute).Truncate(time.Second)) {
					t.Fatalf("sources %+v", e.Sources)
				}
			}},
		{"null clears a fact; the name's case may change", "connector",
			[]Patch{{Facts: Facts{Name: "WEB-01", Protocol: &web}, Present: fieldSet(t, "protocol", "ip")}}, func(t *testing.T) {
				e := get(f.Name)
				if e.IP != nil || *e.Protocol != "web" || e.Name != "WEB-01" || e.Sources["ip"].Source != "connector" {
					t.Fatalf("after clearing ip: %+v %+v", e.Facts, e.Sources)
				}
			}},
		{"a new name creates the endpoint with what is given", "connector",
			[]Patch{{Facts: Facts{Name: "db-07", Power: &off}, Present: fieldSet(t, "power")}}, func(t *testing.T) {
				e := get("db-07")
				if *e.Power != "off" || e.Protocol != nil || len(e.Sources) != 1 {
					t.Fatalf("new endpoint %+v %+v", e.Facts, e.Sources)
				}
			}},
	}
	for _, s := range steps {
		clk.advance(time.Minute)
		if _, err := db.ReportFacts(ctx, s.source, s.items); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		t.Run(s.name, s.check)
	}

	// Repeating a PATCH changes no fact (only the report time).
	before := get(f.Name)
	res, err := db.ReportFacts(ctx, "vcenter-sync", []Patch{{Facts: Facts{Name: "WEB-01", Power: &off}, Present: fieldSet(t, "power")}})
	if err != nil || res.Unchanged != 1 || !reflect.DeepEqual(get(f.Name).Facts, before.Facts) {
		t.Fatalf("repeat: %+v %v", res, err)
	}
	// One bad item: nothing of the batch is written.
	bad := "sleeping"
	_, err = db.ReportFacts(ctx, "connector", []Patch{
		{Facts: Facts{Name: "db-08", Power: &off}, Present: fieldSet(t, "power")},
		{Facts: Facts{Name: f.Name, Power: &bad}, Present: fieldSet(t, "power")},
	})
	if KindOf(err) != Invalid {
		t.Fatalf("bad item: %v", err)
	}
	if _, err := db.EndpointByName(ctx, "db-08"); KindOf(err) != NotFound {
		t.Fatal("the good item of a refused batch was written")
	}
	// Sources: who feeds how many endpoints.
	srcs, _ := db.Sources(ctx)
	fed := map[string]int64{}
	for _, s := range srcs {
		fed[s.Name] = s.Endpoints
	}
	if !reflect.DeepEqual(fed, map[string]int64{"inventory": 1, "vcenter-sync": 1, "connector": 2}) {
		t.Fatalf("endpoints fed %v", fed)
	}
	// A PUT by one source takes every fact: the others feed it no more.
	if _, err := db.ReportFacts(ctx, "inventory", whole([]Facts{f})); err != nil {
		t.Fatal(err)
	}
	srcs, _ = db.Sources(ctx)
	for _, s := range srcs {
		fed[s.Name] = s.Endpoints
	}
	if !reflect.DeepEqual(fed, map[string]int64{"inventory": 1, "vcenter-sync": 0, "connector": 1}) {
		t.Fatalf("endpoints fed after a PUT %v", fed)
	}
	checkCounts(t, db)
}

// Stale facts, with an injected clock: raised once no source has reported
// within the threshold, cleared by any report; silent sources marked.
func TestStaleFacts(t *testing.T) {
	db, clk := MustOpen(t)
	ctx := context.Background()
	f, _ := healthy()
	db.ReportFacts(ctx, "inventory", whole([]Facts{f}))
	fresh, _ := db.EndpointByName(ctx, f.Name)
	stale := func() bool {
		t.Helper()
		if err := db.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e, _ := db.EndpointByName(ctx, f.Name)
		n, _ := db.Count(ctx, Filter{Conds: []Cond{{Dim: DimWarning, Values: []string{string(StaleFacts)}}}})
		if e.StaleFacts != (n == 1) {
			t.Fatalf("the list says %d stale, the endpoint %v", n, e.StaleFacts)
		}
		return e.StaleFacts
	}
	clk.advance(24 * time.Hour)
	if stale() {
		t.Fatal("stale at exactly the threshold")
	}
	clk.advance(2 * time.Second)
	if !stale() {
		t.Fatal("not stale past the threshold")
	}
	srcs, _ := db.Sources(ctx)
	if len(srcs) != 1 || !srcs[0].Silent {
		t.Fatalf("source not marked silent: %+v", srcs)
	}
	e, _ := db.EndpointByName(ctx, f.Name)
	if e.Impact != fresh.Impact || !reflect.DeepEqual(e.Exemptions, fresh.Exemptions) {
		t.Fatalf("a warning changed the impact: %v → %v", fresh.Impact, e.Impact)
	}
	// Any report clears it, even of an unchanged fact.
	db.ReportFacts(ctx, "other", []Patch{{Facts: Facts{Name: f.Name, Power: f.Power}, Present: fieldSet(t, "power")}})
	if stale() {
		t.Fatal("still stale after a report")
	}
	// A longer threshold.
	set := db.Settings()
	set.StaleAfter = 72 * time.Hour
	if err := db.UpdateSettings(ctx, "admin", set); err != nil {
		t.Fatal(err)
	}
	clk.advance(48 * time.Hour)
	if stale() {
		t.Fatal("stale within a 72 h threshold")
	}
	checkCounts(t, db)
}
