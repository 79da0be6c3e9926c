package store

import (
	"context"
	"testing"
)

// BenchmarkSeed reports how fast generated endpoints go into a new database.
func BenchmarkSeed(b *testing.B) {
	for b.Loop() {
		db, _ := MustOpen(b)
		if err := db.Seed(context.Background(), 100000, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100000*b.N)/b.Elapsed().Seconds(), "endpoints/s")
}

// BenchmarkEvaluate is the cost of the rules for one endpoint.
func BenchmarkEvaluate(b *testing.B) {
	g := NewGenerator(1, now)
	facts := make([]Facts, 1024)
	for i := range facts {
		facts[i] = g.Facts(int64(i))
	}
	st := State{Plan: Plan{Assigned: true, Entries: 1, FirstStart: now.Add(-week), LastEnd: now.Add(week)}}
	i := 0
	for b.Loop() {
		Evaluate(&facts[i%len(facts)], st, DefaultSettings, now)
		i++
	}
}

// BenchmarkList is the hot query of the Servers list (one 50-row page with
// drives, and its total) on an estate of 100k endpoints.
func BenchmarkList(b *testing.B) {
	db, _ := MustOpen(b)
	ctx := context.Background()
	if err := db.SeedDemo(ctx, 100000); err != nil {
		b.Fatal(err)
	}
	cannot := CannotPatch
	for name, f := range map[string]Filter{
		"unfiltered":   {},
		"exemption":    {Exemptions: []Code{PoweredOff}},
		"impact":       {Impact: &cannot},
		"impact+os":    {Impact: &cannot, OS: "windows"},
		"os+protocol":  {OS: "windows", Protocol: "web"},                  // merged ranges (merge.go)
		"exemption+os": {Exemptions: []Code{Disconnected}, OS: "windows"}, // merged ranges
		"low-disk":     {LowDisk: true},
		"deep-page":    {After: "proxy"},
		"facets":       {Impact: &cannot},
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if name == "facets" {
					if _, err := db.Facets(ctx, f); err != nil {
						b.Fatal(err)
					}
					continue
				}
				if _, err := db.List(ctx, f, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
