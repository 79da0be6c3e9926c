package readmodel

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Grouper may be implemented by a schema whose records fall into groups
// that share every value of a dimension (a label set, an exemption mask, an
// enumeration). The model then keeps, per such dimension, a column with
// each record's group number, and can count a dimension's facets over a
// set by one walk through its column — a count per group, then each
// group's count added to its values — instead of an intersection per
// value; it adds records to their terms' bitmaps through their groups too.
type Grouper[R any] interface {
	// Grouped lists the dimensions that have groups.
	Grouped() []string
	// GroupOf returns the function that numbers a record's group for dim.
	GroupOf(dim string) func(r *R) uint32
	// GroupValues calls add with every value of the dimension that the
	// records of group g have: exactly the values Terms gives them.
	GroupValues(dim string, g uint32, add func(value string))
	// Complete tells whether the grouped dimensions are all Terms gives,
	// so that Terms need not be called.
	Complete() bool
}

// maxSlots bounds a dimension's groups and values: a dimension with more
// is filtered through Terms and counted by intersections.
const maxSlots = 1 << 16

// groupColumn numbers one grouped dimension's groups densely (slots) and
// keeps each slot's values, with their bitmaps: a record is added to its
// terms' bitmaps through its groups, without asking the schema for terms.
// It only grows, with the groups and values the estate has had; it is
// changed under the model's write lock only.
type groupColumn[R any] struct {
	dim     string
	groupOf func(*R) uint32
	slot    map[uint32]uint16 // group → slot
	// The values of slot s are value[start[s]:start[s+1]], indexes into
	// names: one array, so that counting reads it in order.
	value   []uint16
	start   []uint32
	names   []string
	name    map[string]uint16 // name → its index
	bitmaps []*roaring.Bitmap // of each name
	full    bool              // more than maxSlots groups or values: left to Terms
	// slots is each record's slot, by id. A column apart from the others,
	// so that counting one dimension over a set of most records reads 2
	// bytes a record, not a row of every dimension.
	slots []uint16
}

func (c *groupColumn[R]) slotCount() int { return len(c.start) - 1 }

// values are slot s's values, as indexes into names.
func (c *groupColumn[R]) values(s uint16) []uint16 { return c.value[c.start[s]:c.start[s+1]] }

// newGroupColumns makes the schema's group columns, if it has any.
func newGroupColumns[R any](schema Schema[R]) []groupColumn[R] {
	g, ok := any(schema).(Grouper[R])
	if !ok {
		return nil
	}
	var cols []groupColumn[R]
	for _, dim := range g.Grouped() {
		cols = append(cols, groupColumn[R]{dim: dim, groupOf: g.GroupOf(dim), slot: map[uint32]uint16{}, name: map[string]uint16{}, start: []uint32{0}})
	}
	return cols
}

// slotOf returns group's slot, making one (and recording its values) the
// first time the group is seen. ok is false once the column is full.
func (m *Model[R]) slotOf(c *groupColumn[R], group uint32) (slot uint16, ok bool) {
	if s, ok := c.slot[group]; ok || c.full {
		return s, !c.full
	}
	// A full column's records stay in the bitmaps they were added to, which
	// are their terms; from now on Terms adds and removes them.
	if c.slotCount() == m.slotLimit {
		c.full = true
		return 0, false
	}
	var values []uint16
	m.schema.(Grouper[R]).GroupValues(c.dim, group, func(v string) {
		i, ok := c.name[v]
		if !ok {
			if len(c.names) == m.slotLimit {
				c.full = true
				return
			}
			i = uint16(len(c.names))
			c.name[v], c.names, c.bitmaps = i, append(c.names, v), append(c.bitmaps, m.bitmap(c.dim, v))
		}
		values = append(values, i)
	})
	if c.full {
		return 0, false
	}
	s := uint16(c.slotCount())
	c.slot[group], c.value = s, append(c.value, values...)
	c.start = append(c.start, uint32(len(c.value)))
	return s, true
}

// putGroups records the slots of record id and adds it to the bitmaps of
// its groups' values.
func (m *Model[R]) putGroups(id uint32, r *R) {
	for i := range m.groups {
		c := &m.groups[i]
		s, ok := m.slotOf(c, c.groupOf(r))
		if !ok {
			continue
		}
		if int(id) >= len(c.slots) {
			c.slots = slices.Grow(c.slots, int(id)+1-len(c.slots))[:id+1]
		}
		c.slots[id] = s
		for _, v := range c.values(s) {
			c.bitmaps[v].Add(id)
		}
	}
}

// dropGroups takes record id out of the bitmaps of its groups' values.
func (m *Model[R]) dropGroups(id uint32) {
	for i := range m.groups {
		c := &m.groups[i]
		if c.full {
			continue
		}
		for _, v := range c.values(c.slots[id]) {
			c.bitmaps[v].Remove(id)
		}
	}
}

// grouped tells whether dim's terms come from its groups; allGrouped,
// whether every term does (then Terms is not called at all).
func (m *Model[R]) grouped(dim string) bool { return m.groupColumn(dim) >= 0 }

func (m *Model[R]) allGrouped() bool {
	if len(m.groups) == 0 || !m.schema.(Grouper[R]).Complete() {
		return false
	}
	for i := range m.groups {
		if m.groups[i].full {
			return false
		}
	}
	return true
}

// Facet counting costs, measured at a million records: walking a set
// costs about walkNanos per record and dimension. An intersection goes a
// container (65,536 ids) at a time: two dense ones (bitmaps of 1,024
// words) cost about denseNanos, otherwise about matchNanos per id of the
// sparser side (an array, probed or merged).
const (
	walkNanos  = 2
	denseNanos = 300
	matchNanos = 2
	denseIDs   = 4096 // roaring keeps a container of more ids as a bitmap
)

// intersectCost estimates counting dim's values in a base of size records.
func (m *Model[R]) intersectCost(dim string, size int) int {
	containers := len(m.recs)>>16 + 1
	cost := 0
	for _, b := range m.dims[dim] {
		v := int(b.GetCardinality())
		if v/containers >= denseIDs && size/containers >= denseIDs {
			cost += containers * denseNanos
		} else {
			cost += min(v, size) * matchNanos
		}
	}
	return cost
}

// Ways to count facets, for tests (Model.facetWay); by cost otherwise.
const (
	byCost        = iota
	walkSet       // walk every base
	walkSmallSide // walk every base, or what it leaves out when that is smaller
)

// facets is Facets for a filter already made, and its matches. Each
// dimension is counted over its base — the matches, or for a dimension
// with its own "any of" condition the matches without it — the cheapest of
// four ways: every record (the values' own counts); an intersection per
// value; walking the base's group slots; for a base of most records,
// walking what it leaves out and subtracting. One walk counts every
// dimension that shares a base.
func (m *Model[R]) facets(q *Query, f *filter, all *roaring.Bitmap, dims []string) map[string]map[string]int {
	counts := make(map[string]map[string]int, len(dims))
	type job struct {
		base *roaring.Bitmap // nil when only rest is known
		rest *roaring.Bitmap // what the base leaves out, when known first
		size int
		skip string // the dimension whose "any of" the base leaves out
		cols []int  // group columns walked over the base
	}
	n := int(m.live.GetCardinality())
	shared := job{base: all, size: int(all.GetCardinality())} // the dimensions whose base is all
	var own []job
	for _, dim := range dims {
		j := job{base: all, size: shared.size, skip: dim}
		if slices.ContainsFunc(q.Conds, func(c Cond) bool { return c.Dim == dim && c.Mode == Any }) {
			if len(f.not) > 0 && m.onlyNone(f, dim) {
				// Every record but the "none of" values: their union is
				// small, the base most records, not worth making.
				j.base, j.rest = nil, m.rest(f, dim, nil)
				j.size = n - int(j.rest.GetCardinality())
			} else {
				j.base = m.match(f, dim)
				j.size = int(j.base.GetCardinality())
			}
		}
		col := m.groupColumn(dim)
		if col < 0 || j.base == m.live || (m.facetWay == byCost && m.intersectCost(dim, j.size) < min(j.size, n-j.size)*walkNanos) {
			if j.base == nil {
				j.base = m.match(f, dim)
			}
			counts[dim] = m.intersect(dim, j.base)
			continue
		}
		if j.base == all {
			shared.cols = append(shared.cols, col)
		} else {
			j.cols = []int{col}
			own = append(own, j)
		}
	}
	for _, j := range append(own, shared) {
		if len(j.cols) == 0 {
			continue
		}
		if 2*j.size <= n || m.facetWay == walkSet {
			if j.base == nil {
				j.base = m.match(f, j.skip)
			}
			tallied := m.tally(j.cols, j.base)
			for i, c := range j.cols {
				counts[m.groups[c].dim] = m.expand(c, tallied[i], nil)
			}
			continue
		}
		// Most records: count what the base leaves out.
		if j.rest == nil {
			j.rest = m.rest(f, j.skip, j.base)
		}
		tallied := m.tally(j.cols, j.rest)
		for i, c := range j.cols {
			counts[m.groups[c].dim] = m.expand(c, tallied[i], m.dims[m.groups[c].dim])
		}
	}
	return counts
}

// groupColumn is the index of dim's group column, or -1.
func (m *Model[R]) groupColumn(dim string) int {
	for i := range m.groups {
		if m.groups[i].dim == dim && !m.groups[i].full {
			return i
		}
	}
	return -1
}

// intersect counts each value of dim in base by an AND-cardinality.
func (m *Model[R]) intersect(dim string, base *roaring.Bitmap) map[string]int {
	values := m.dims[dim]
	out := make(map[string]int, len(values))
	for v, b := range values {
		var n uint64
		switch {
		case base.IsEmpty():
		case base == m.live:
			n = b.GetCardinality()
		default:
			n = base.AndCardinality(b)
		}
		if n > 0 {
			out[v] = int(n)
		}
	}
	return out
}

// tally counts, for each of the group columns cols, how many records of
// set fall in each slot, in one walk over the set's rows.
func (m *Model[R]) tally(cols []int, set *roaring.Bitmap) [][]int32 {
	counts := make([][]int32, len(cols))
	for i, c := range cols {
		counts[i] = make([]int32, m.groups[c].slotCount())
	}
	buf := make([]uint32, 1024)
	it := set.ManyIterator()
	for got := it.NextMany(buf); got > 0; got = it.NextMany(buf) {
		ids := buf[:got]
		for i, c := range cols {
			n, slots := counts[i], m.groups[c].slots
			for _, id := range ids {
				n[slots[id]]++
			}
		}
	}
	return counts
}

// expand adds each slot's count to the slot's values. With whole set (the
// dimension's value bitmaps), the counts are of what a base leaves out,
// and each value's count is its whole count less that.
func (m *Model[R]) expand(col int, slots []int32, whole map[string]*roaring.Bitmap) map[string]int {
	c := &m.groups[col]
	byName := make([]int, len(c.names))
	for s, n := range slots {
		if n > 0 {
			for _, v := range c.values(uint16(s)) {
				byName[v] += int(n)
			}
		}
	}
	out := make(map[string]int, len(c.names))
	for v, n := range byName {
		if whole != nil {
			if b := whole[c.names[v]]; b != nil {
				n = int(b.GetCardinality()) - n
			}
		}
		if n > 0 {
			out[c.names[v]] = n
		}
	}
	return out
}
