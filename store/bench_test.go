package store

import (
	"context"
	"math/rand/v2"
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

// BenchmarkList is the Servers list's reads (a 50-row page with drives,
// and the facets) on an estate of 100k endpoints, over filters drawn by the
// property test's generator: every dimension, search, every sort, cursors.
func BenchmarkList(b *testing.B) {
	db, _ := MustOpen(b)
	ctx := context.Background()
	if err := db.SeedDemo(ctx, 100000); err != nil {
		b.Fatal(err)
	}
	if err := db.BuildReadModel(ctx); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	filters := make([]Filter, 200)
	for i := range filters {
		filters[i] = randomFilter(r, db)
	}
	b.Run("page", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := db.List(ctx, filters[i%len(filters)], true); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("facets", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := db.Facets(ctx, filters[i%len(filters)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
