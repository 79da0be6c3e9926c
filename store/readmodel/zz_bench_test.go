package readmodel

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

func BenchmarkZZTally(b *testing.B) {
	const n = 1_000_000
	stride := 7
	m := &Model[rec]{}
	m.groups = make([]groupColumn[rec], stride)
	for i := range m.groups {
		m.groups[i].values = make([][]uint16, 300)
	}
	m.slots = make([]uint16, n*stride)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range m.slots {
		m.slots[i] = uint16(r.IntN(300))
	}
	set := roaring.New()
	for i := range n {
		if r.IntN(8) == 0 {
			set.Add(uint32(i))
		}
	}
	cols := []int{0, 1, 2, 3, 4, 5, 6}
	b.Logf("set %d", set.GetCardinality())
	for b.Loop() {
		m.tally(cols, set)
	}
}

func BenchmarkZZIter(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	set := roaring.New()
	for i := range 1_000_000 {
		if r.IntN(8) == 0 {
			set.Add(uint32(i))
		}
	}
	buf := make([]uint32, 256)
	for b.Loop() {
		it := set.ManyIterator()
		s := 0
		for got := it.NextMany(buf); got > 0; got = it.NextMany(buf) {
			s += got
		}
	}
}

func BenchmarkZZRowMajor(b *testing.B) {
	const n = 1_000_000
	stride := 7
	slotsArr := make([]uint16, n*stride)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range slotsArr {
		slotsArr[i] = uint16(r.IntN(300))
	}
	set := roaring.New()
	for i := range n {
		if r.IntN(8) == 0 {
			set.Add(uint32(i))
		}
	}
	cols := []int{0, 1, 2, 3, 4, 5, 6}
	for b.Loop() {
		counts := make([][]int32, 7)
		for i := range counts {
			counts[i] = make([]int32, 300)
		}
		buf := make([]uint32, 1024)
		it := set.ManyIterator()
		for got := it.NextMany(buf); got > 0; got = it.NextMany(buf) {
			for _, id := range buf[:got] {
				row := slotsArr[int(id)*stride : int(id+1)*stride]
				for i, c := range cols {
					counts[i][row[c]]++
				}
			}
		}
	}
}
