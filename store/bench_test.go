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
