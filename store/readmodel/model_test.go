package readmodel

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// rec is a record of the test schema: two single-valued dimensions, one
// multi-valued, a number and a string to sort by (either may be absent).
type rec struct {
	name, ip string
	color    string   // dimension "color"
	tags     []string // dimension "tag"
	size     int      // sort "size"; -1 = none
	owner    string   // sort "owner"; "" = none
}

type schema struct{}

func (schema) Terms(r *rec, add func(string, string)) {
	add("color", r.color)
	for _, t := range r.tags {
		add("tag", t)
	}
}

// GroupOf: a record's color, or its tags as a bit mask.
func (schema) Grouped() []string { return []string{"color", "tag"} }
func (schema) Complete() bool    { return true }

func (schema) GroupOf(dim string) func(r *rec) uint32 {
	if dim == "color" {
		return func(r *rec) uint32 { return uint32(slices.Index(colors, r.color) + 1) } // 0: none ("")
	}
	return func(r *rec) uint32 {
		var g uint32
		for _, t := range r.tags {
			g |= 1 << slices.Index(tags, t)
		}
		return g
	}
}

func (schema) GroupValues(dim string, g uint32, add func(string)) {
	if dim == "color" {
		if g == 0 {
			add("")
		} else {
			add(colors[g-1])
		}
		return
	}
	for i, t := range tags {
		if g&(1<<i) != 0 {
			add(t)
		}
	}
}

func (schema) Text(r *rec, buf []string) []string { return append(buf, r.name, r.ip) }
func (schema) SortKey(col string, r *rec, buf []byte) ([]byte, bool) {
	switch col {
	case "size":
		if r.size < 0 {
			return buf, false
		}
		return binary.BigEndian.AppendUint32(buf, uint32(r.size)), true
	case "owner":
		return append(buf, r.owner...), r.owner != ""
	}
	return buf, true // "name": the tie key alone
}
func (schema) TieKey(r *rec, buf []byte) []byte { return append(buf, strings.ToLower(r.name)...) }
func (schema) Columns() []string                { return []string{"name", "size"} }
func (schema) TieColumn() string                { return "name" } // plain has none: its columns are sorted

// plain is the schema without groups.
type plain struct{}

func (plain) Terms(r *rec, add func(string, string))              { schema{}.Terms(r, add) }
func (plain) Text(r *rec, buf []string) []string                  { return schema{}.Text(r, buf) }
func (plain) SortKey(c string, r *rec, buf []byte) ([]byte, bool) { return schema{}.SortKey(c, r, buf) }
func (plain) TieKey(r *rec, buf []byte) []byte                    { return schema{}.TieKey(r, buf) }
func (plain) Columns() []string                                   { return schema{}.Columns() }

var (
	colors = []string{"red", "green", "blue", "grey"}
	tags   = []string{"a", "b", "c", "d", "e", "f"}
	owners = []string{"", "ann", "bob", "Cy", "dee"}
	sylls  = []string{"web", "db", "fra", "Ams", "x", "01", "-", "app", "Web"}
)

func randomRec(r *rand.Rand) rec {
	var name strings.Builder
	for range 1 + r.IntN(4) {
		name.WriteString(sylls[r.IntN(len(sylls))])
	}
	x := rec{name: name.String(), ip: fmt.Sprintf("10.%d.%d.%d", r.IntN(3), r.IntN(20), r.IntN(250)),
		color: colors[r.IntN(len(colors))], size: r.IntN(6) - 1, owner: owners[r.IntN(len(owners))]}
	for _, t := range tags {
		if r.IntN(3) == 0 {
			x.tags = append(x.tags, t)
		}
	}
	return x
}

func randomQuery(r *rand.Rand) Query {
	var q Query
	pick := func(from []string) []string {
		var out []string
		for _, v := range from {
			if r.IntN(3) == 0 {
				out = append(out, v)
			}
		}
		return out
	}
	if r.IntN(2) == 0 {
		q.Conds = append(q.Conds, Cond{Dim: "color", Mode: Any, Values: pick(colors)})
	}
	if r.IntN(3) == 0 {
		q.Conds = append(q.Conds, Cond{Dim: "tag", Mode: All, Values: pick(tags)})
	}
	if r.IntN(3) == 0 {
		q.Conds = append(q.Conds, Cond{Dim: "tag", Mode: Any, Values: pick(tags)})
	}
	if r.IntN(3) == 0 {
		q.Conds = append(q.Conds, Cond{Dim: "tag", Mode: None, Values: pick(tags)})
	}
	if r.IntN(3) == 0 {
		for range 1 + r.IntN(2) {
			s := sylls[r.IntN(len(sylls))] + sylls[r.IntN(len(sylls))]
			start := r.IntN(len(s))
			q.Text = append(q.Text, s[start:start+1+r.IntN(len(s)-start)])
		}
		if r.IntN(4) == 0 {
			q.Text = append(q.Text, fmt.Sprintf("10.%d", r.IntN(3)))
		}
	}
	q.Column = []string{"name", "size", "owner"}[r.IntN(3)]
	q.Desc = r.IntN(2) == 0
	return q
}

// brute is the reference: every record checked, sorted from scratch.
type brute map[uint32]rec

func has(vs []string, v string) bool { return slices.Contains(vs, v) }

func (b brute) matches(r rec, q Query, skip string) bool {
	values := func(dim string) []string {
		if dim == "color" {
			return []string{r.color}
		}
		return r.tags
	}
	for _, c := range q.Conds {
		vs := values(c.Dim)
		switch c.Mode {
		case Any:
			if c.Dim != skip && !slices.ContainsFunc(c.Values, func(v string) bool { return has(vs, v) }) {
				return false
			}
		case All:
			for _, v := range c.Values {
				if !has(vs, v) {
					return false
				}
			}
		case None:
			if slices.ContainsFunc(c.Values, func(v string) bool { return has(vs, v) }) {
				return false
			}
		}
	}
	if len(q.Text) > 0 && !slices.ContainsFunc(q.Text, func(t string) bool {
		return strings.Contains(strings.ToLower(r.name), strings.ToLower(t)) || strings.Contains(strings.ToLower(r.ip), strings.ToLower(t))
	}) {
		return false
	}
	return true
}

// sorted lists the matching ids in the query's order: values ascending
// (descending: reversed, name and id too), records without a value last.
func (b brute) sorted(q Query) []uint32 {
	var ids []uint32
	for id, r := range b {
		if b.matches(r, q, "") {
			ids = append(ids, id)
		}
	}
	value := func(r rec) (int, string, bool) {
		switch q.Column {
		case "size":
			return r.size, "", r.size >= 0
		case "owner":
			return 0, r.owner, r.owner != ""
		}
		return 0, "", true
	}
	slices.SortFunc(ids, func(x, y uint32) int {
		rx, ry := b[x], b[y]
		nx, sx, okx := value(rx)
		ny, sy, oky := value(ry)
		if okx != oky {
			if okx {
				return -1
			}
			return 1
		}
		c := cmp.Or(cmp.Compare(nx, ny), strings.Compare(sx, sy), strings.Compare(strings.ToLower(rx.name), strings.ToLower(ry.name)), cmp.Compare(x, y))
		if q.Desc && okx {
			return -c
		}
		return c
	})
	return ids
}

func (b brute) facets(q Query) map[string]map[string]int {
	out := map[string]map[string]int{"color": {}, "tag": {}}
	for _, r := range b {
		if b.matches(r, q, "color") {
			out["color"][r.color]++
		}
		if b.matches(r, q, "tag") {
			for _, t := range r.tags {
				out["tag"][t]++
			}
		}
	}
	return out
}

// walk pages through the whole query with cursors, forwards, and checks
// the pages backwards with Before cursors.
func walk(t *testing.T, m *Model[rec], q Query, limit int) []uint32 {
	t.Helper()
	q.Limit = limit
	var all []uint32
	var pages []Page
	for range 10_000 {
		p, err := m.Page(q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.IDs...)
		pages = append(pages, p)
		if len(pages) > 1 && p.Prev == "" {
			t.Fatalf("page %d has no previous-page cursor", len(pages))
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	// Back from the last page: each Before cursor gives the page before.
	q.After = ""
	for i := len(pages) - 1; i > 0; i-- {
		q.Before = pages[i].Prev
		p, err := m.Page(q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.IDs, pages[i-1].IDs) {
			t.Fatalf("page %d backwards: %v, forwards %v", i-1, p.IDs, pages[i-1].IDs)
		}
	}
	return all
}

func TestModelAgainstBruteForce(t *testing.T) {
	for seed := range uint64(16) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			m := New[rec](schema{})
			switch seed % 5 {
			case 3:
				m = New[rec](plain{}) // terms from Terms, facets by intersections
			case 4:
				m.slotLimit = 3  // tags outgrow their slots: they fall back to Terms
				m.maxOrders = 0  // an ordering built on demand is dropped at once
				m.maxBuckets = 1 // orderings are sorted by rank or by key
			}
			switch seed % 3 {
			case 0:
				m.facetWay = walkSet
			case 1:
				m.facetWay = walkSmallSide
			}
			switch seed % 4 {
			case 0:
				m.sparse = 0 // walk the orderings
			case 1:
				m.sparse, m.walkBudget = 0, 3 // walk, give up soon, sort by position
			case 2:
				m.sparse, m.walkBudget, m.selectSmall, m.blockSize = 0, 3, 1, 3 // … or count blocks of positions
			}
			ref := brute{}
			n := 50 + r.IntN(400)
			m.Rebuild(0, func(yield func(uint32, *rec) error) error {
				for id := uint32(1); id <= uint32(n); id++ {
					x := randomRec(r)
					ref[id] = x
					yield(id, &x)
				}
				return nil
			})
			for round := range 8 {
				// Change some records, add some, remove some, in one batch.
				var changes []Change[rec]
				for range r.IntN(40) {
					id := uint32(1 + r.IntN(n+20))
					if r.IntN(5) == 0 {
						changes = append(changes, Change[rec]{ID: id})
						delete(ref, id)
						continue
					}
					x := randomRec(r)
					ref[id] = x
					changes = append(changes, Change[rec]{ID: id, Rec: &x})
				}
				m.Apply(changes)
				for range 15 {
					q := randomQuery(r)
					want := ref.sorted(q)
					total, facets := m.Facets(q, []string{"color", "tag"})
					if total != len(want) {
						t.Fatalf("round %d %+v: total %d, want %d", round, q, total, len(want))
					}
					if wf := ref.facets(q); !equalFacets(facets, wf) {
						t.Fatalf("round %d %+v: facets %v, want %v", round, q, facets, wf)
					}
					q.Limit = 1 + r.IntN(30)
					p1, _ := m.Page(q)
					p2, f2, _ := m.PageAndFacets(q, []string{"color", "tag"})
					if !slices.Equal(p1.IDs, p2.IDs) || p1.Next != p2.Next || p1.Prev != p2.Prev || !equalFacets(f2, facets) {
						t.Fatalf("PageAndFacets differs from Page and Facets for %+v", q)
					}
					got := walk(t, m, q, q.Limit)
					if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
						t.Fatalf("round %d %+v:\n got %v\nwant %v", round, q, got, want)
					}
					// A page by offset is the same slice of the whole.
					q.Offset, q.Limit = r.IntN(len(want)+1), 1+r.IntN(20)
					p, _ := m.Page(q)
					end := min(q.Offset+q.Limit, len(want))
					if !slices.Equal(p.IDs, want[q.Offset:end]) && !(len(p.IDs) == 0 && q.Offset == end) {
						t.Fatalf("offset %d limit %d: %v, want %v", q.Offset, q.Limit, p.IDs, want[q.Offset:end])
					}
				}
			}
		})
	}
}

func equalFacets(got, want map[string]map[string]int) bool {
	for dim, w := range want {
		g := got[dim]
		if len(g) != len(w) {
			return false
		}
		for v, n := range w {
			if g[v] != n {
				return false
			}
		}
	}
	return true
}

func TestCursorFromAnotherOrder(t *testing.T) {
	m := New[rec](schema{})
	m.Rebuild(0, func(yield func(uint32, *rec) error) error {
		for id := uint32(1); id <= 10; id++ {
			yield(id, &rec{name: fmt.Sprint("n", id), size: int(id)})
		}
		return nil
	})
	p, _ := m.Page(Query{Column: "size", Limit: 3})
	for _, bad := range []string{p.Next + "x", "%%%", "bm8"} {
		if _, err := m.Page(Query{Column: "size", After: bad}); err != ErrCursor {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
	if _, err := m.Page(Query{Column: "name", After: p.Next}); err != ErrCursor {
		t.Errorf("a size cursor used for the name order: %v", err)
	}
}

// Orderings built on demand are bounded: sorting by one more column drops
// the least recently used, which is built again when sorted by.
func TestOrderingsAreBounded(t *testing.T) {
	m := New[rec](schema{})
	m.maxOrders = 1
	m.Rebuild(0, func(yield func(uint32, *rec) error) error {
		for id := uint32(1); id <= 30; id++ {
			yield(id, &rec{name: fmt.Sprint("n", id), owner: owners[id%5], size: int(id % 7)})
		}
		return nil
	})
	first, _ := m.Page(Query{Column: "owner", Limit: 30})
	m.Page(Query{Column: "other", Limit: 30}) // an unknown column sorts by the tie key alone
	if _, ok := m.orders["owner"]; ok || len(m.orders) != len(m.schema.Columns())+1 {
		t.Fatalf("orderings kept: %d, want the schema's and the last one", len(m.orders))
	}
	again, _ := m.Page(Query{Column: "owner", Limit: 30})
	if !slices.Equal(first.IDs, again.IDs) || len(first.IDs) != 30 {
		t.Fatalf("sorted by owner again: %v, first %v", again.IDs, first.IDs)
	}
}

// Only maxPositions orderings keep a position index at once; one that was
// dropped is made again when a query needs it, and the pages are the same.
func TestPositionIndexesAreBounded(t *testing.T) {
	m := New[rec](schema{})
	m.Rebuild(0, func(yield func(uint32, *rec) error) error {
		for id := uint32(1); id <= 300; id++ {
			yield(id, &rec{name: fmt.Sprint("n", id), color: colors[id%4], owner: owners[id%5], size: int(id % 7)})
		}
		return nil
	})
	columns := []string{"name", "size", "owner", "x", "y"} // x, y: unknown columns sort by name
	first := map[string][]uint32{}
	most := 0
	for round := range 2 {
		for _, col := range columns {
			p, err := m.Page(Query{Conds: []Cond{{Dim: "color", Mode: Any, Values: []string{"red"}}}, Column: col, Offset: 20, Limit: 10})
			if err != nil || len(p.IDs) != 10 {
				t.Fatalf("%s: %v %v", col, p.IDs, err)
			}
			if round == 0 {
				first[col] = p.IDs
			} else if !slices.Equal(p.IDs, first[col]) {
				t.Errorf("%s: %v, first %v", col, p.IDs, first[col])
			}
			held := 0
			for _, o := range m.orders {
				if o.pos != nil {
					held++
				}
			}
			if held > maxPositions || len(m.withPositions) > maxPositions {
				t.Fatalf("after sorting by %s: %d orderings keep positions (%d listed), at most %d", col, held, len(m.withPositions), maxPositions)
			}
			most = max(most, held)
		}
	}
	if most != maxPositions {
		t.Fatalf("at most %d orderings kept positions: the pages did not use them", most)
	}
}

// prefixed is the test schema with a column "z" whose keys would not sort
// apart from the tie keys: "a" and "a", 0, "b"; and "wide", keys of 12
// bytes.
type prefixed struct{ schema }

func (prefixed) SortKey(col string, r *rec, buf []byte) ([]byte, bool) {
	if col == "wide" {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(r.owner))<<56) // the first byte differs: no prefix to leave out
		return binary.BigEndian.AppendUint32(buf, uint32(r.size)), r.size >= 0
	}
	if col == "z" {
		if r.size%2 == 0 {
			return append(buf, 'a'), true
		}
		return append(buf, 'a', 0, 'b'), true
	}
	return schema{}.SortKey(col, r, buf)
}

// An ordering built from buckets or by rank is the one a sort of the full
// keys gives; a column whose keys would interleave by tie key, or are not
// one width, is sorted instead.
func TestBuiltOrdersAreTheSortedOrders(t *testing.T) {
	m := New[rec](prefixed{})
	m.Rebuild(0, func(yield func(uint32, *rec) error) error {
		for id := uint32(1); id <= 300; id++ {
			yield(id, &rec{name: fmt.Sprintf("%c%d", 'a'+id%26, id), owner: owners[id%5], size: int(id%9) - 1})
		}
		return nil
	})
	for _, buckets := range []int{defaultMaxBuckets, 1} { // 1: sizes are sorted by rank, owners sorted
		m.maxBuckets = buckets
		for _, col := range []string{"owner", "size", "wide", "z", "unknown"} {
			want := m.live.ToArray()
			slices.SortFunc(want, func(a, b uint32) int {
				ka, _ := m.fullKey(col, a, nil)
				kb, _ := m.fullKey(col, b, nil)
				return bytes.Compare(ka, kb)
			})
			if got := m.buildOrder(col, nil); !slices.Equal(got.ids, want) {
				t.Errorf("%d buckets, %s: %v\nwant %v", buckets, col, got.ids, want)
			}
		}
	}
	tie := m.orders["name"]
	if bucketOrder(m, "z", tie) != nil || rankOrder(m, "z", tie) != nil || rankOrder(m, "owner", tie) != nil {
		t.Error("z or owner was not sorted: z's records interleave by tie key, owners are not one width")
	}
	if rankOrder(m, "size", tie) == nil || rankOrder(m, "size", tie).missing != 300/9 || rankOrder(m, "wide", tie) == nil {
		t.Error("size (with blanks) and wide should be built by rank")
	}
	m.maxBuckets = defaultMaxBuckets
	if bucketOrder(m, "owner", tie) == nil || bucketOrder(m, "size", tie).missing != 300/9 {
		t.Error("owner and size (with blanks) should be built from buckets")
	}
}

// An empty estate, one record, and every record removed: each column
// sorts (by buckets, by rank or by key) and pages to what is there.
func TestOrderingsOfTinyEstates(t *testing.T) {
	for _, n := range []uint32{0, 1} {
		for _, buckets := range []int{defaultMaxBuckets, 0} { // 0: by rank or by key
			m := New[rec](prefixed{})
			m.maxBuckets = buckets
			m.Rebuild(0, func(yield func(uint32, *rec) error) error {
				for id := uint32(1); id <= n; id++ {
					yield(id, &rec{name: "only", size: -1}) // no owner, no size: blanks everywhere but the name
				}
				return nil
			})
			for _, col := range []string{"name", "owner", "size", "wide", "z"} {
				p, err := m.Page(Query{Column: col, Desc: true, Limit: 10})
				if err != nil || len(p.IDs) != int(n) || p.Total != int(n) {
					t.Errorf("%d records, %d buckets, %s: %v total %d, %v", n, buckets, col, p.IDs, p.Total, err)
				}
			}
			if n == 1 {
				m.Apply([]Change[rec]{{ID: 1}})
				for _, col := range []string{"name", "owner", "size"} {
					if p, err := m.Page(Query{Column: col, Limit: 10}); err != nil || len(p.IDs) != 0 {
						t.Errorf("after removing the only record, %s: %v, %v", col, p.IDs, err)
					}
				}
			}
		}
	}
}

// noColumns is the test schema keeping no ordering from the start.
type noColumns struct{ schema }

func (noColumns) Columns() []string { return nil }

// The tie column's ordering, which the others are built from, is never the
// one dropped, even when the schema does not list it among its columns.
func TestTieOrderingIsKept(t *testing.T) {
	m := New[rec](noColumns{})
	m.maxOrders = 1
	m.Rebuild(0, func(yield func(uint32, *rec) error) error {
		for id := uint32(1); id <= 30; id++ {
			yield(id, &rec{name: fmt.Sprint("n", id), owner: owners[id%5], size: int(id % 7)})
		}
		return nil
	})
	for _, col := range []string{"owner", "size", "owner"} {
		if _, err := m.Page(Query{Column: col, Limit: 5}); err != nil {
			t.Fatal(err)
		}
		if m.orders["name"] == nil || len(m.orders) != 2 {
			t.Fatalf("after sorting by %s: orderings %v, want name's and %s's", col, slices.Collect(maps.Keys(m.orders)), col)
		}
	}
}

// counting is the test schema counting the sort keys it makes for "owner".
type counting struct {
	schema
	keys *atomic.Int64
}

func (c counting) SortKey(col string, r *rec, buf []byte) ([]byte, bool) {
	if col == "owner" {
		c.keys.Add(1)
	}
	return c.schema.SortKey(col, r, buf)
}

// Queries that ask at once for a column nobody has sorted by yet wait for
// one sort of it rather than each sorting every record.
func TestOrderingBuiltOnceForConcurrentQueries(t *testing.T) {
	keys := &atomic.Int64{}
	m := New[rec](counting{keys: keys})
	const n = 50_000
	m.Rebuild(0, func(yield func(uint32, *rec) error) error {
		for id := uint32(1); id <= n; id++ {
			yield(id, &rec{name: fmt.Sprint("n", id), owner: owners[id%5]})
		}
		return nil
	})
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if p, err := m.Page(Query{Column: "owner", Limit: 10}); err != nil || len(p.IDs) != 10 {
				t.Errorf("page: %v %v", p.IDs, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	// One sort makes two keys per record (one to size its arena); each
	// page a few more for its cursors.
	if got := keys.Load(); got > 2*n+8*4 {
		t.Errorf("%d sort keys made for %d records: the column was sorted more than once", got, n)
	}
}
