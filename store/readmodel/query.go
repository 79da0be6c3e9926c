package readmodel

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// Mode says how a condition's values combine.
type Mode int

const (
	Any  Mode = iota // has at least one of the values
	All              // has every value
	None             // has none of the values
)

// Cond is one condition on a dimension.
type Cond struct {
	Dim    string
	Mode   Mode
	Values []string
}

// Query is a filter plus, for Page, an order and a position.
type Query struct {
	Conds  []Cond
	Ranges []Range
	// Text: the record's text contains any of these (ignoring ASCII case).
	Text []string

	Column string // sort column
	Desc   bool
	After  string // cursor: the rows after this one
	Before string // cursor: the rows before this one
	Offset int    // without a cursor: rows to skip
	Limit  int
}

// Range selects the records that have a value for Column whose sort key
// is below Below: a prefix of the column's ordering ("blocked for more
// than N days" is blocked since before now − N days).
type Range struct {
	Column string
	Below  []byte
}

// ErrCursor is a cursor that was not made by this model for this order.
var ErrCursor = errors.New("the cursor does not belong to this list or order")

// defaultSparse is how many matches are few enough to sort on their own
// rather than walk the whole ordering looking for them: at a million
// records a walk checks about 1,000,000/k ids per row shown (about 25 µs
// per row for k = 2,048), a sort makes a key for every match and costs
// about a microsecond per match.
const defaultSparse = 2048

// filter is a query's conditions made into bitmaps once: each "any of"
// condition as the union of its values, each "all of" value as itself,
// every "none of" value, and the text search.
type filter struct {
	must  []filterPart
	not   []*roaring.Bitmap
	empty bool // an "all of" value no record has
}

type filterPart struct {
	dim string
	any bool // from an "any of" condition: left out of that dimension's facet
	b   *roaring.Bitmap
}

func (m *Model[R]) filter(q *Query) filter {
	var f filter
	for _, c := range q.Conds {
		values := m.dims[c.Dim]
		switch c.Mode {
		case Any:
			var parts []*roaring.Bitmap
			for _, v := range c.Values {
				if b := values[v]; b != nil {
					parts = append(parts, b)
				}
			}
			b := roaring.New()
			switch len(parts) {
			case 0:
			case 1:
				b = parts[0]
			default:
				b = roaring.FastOr(parts...)
			}
			f.must = append(f.must, filterPart{c.Dim, true, b})
		case All:
			for _, v := range c.Values {
				b := values[v]
				if b == nil {
					f.empty = true
					continue
				}
				f.must = append(f.must, filterPart{c.Dim, false, b})
			}
		case None:
			for _, v := range c.Values {
				if b := values[v]; b != nil {
					f.not = append(f.not, b)
				}
			}
		}
	}
	if len(q.Text) > 0 {
		f.must = append(f.must, filterPart{"", false, m.search(q.Text)})
	}
	for _, r := range q.Ranges {
		f.must = append(f.must, filterPart{"", false, m.prefix(r)})
	}
	// Intersections go fastest smallest first.
	slices.SortFunc(f.must, func(a, b filterPart) int { return int(a.b.GetCardinality()) - int(b.b.GetCardinality()) })
	return f
}

// prefix is a Range as a bitmap: the ordering's records up to the first
// whose key is not below the bound, found by binary search.
func (m *Model[R]) prefix(r Range) *roaring.Bitmap {
	o := m.orders[r.Column]
	if o == nil { // dropped, or a Rebuild, came in between
		o = m.buildOrder(r.Column, nil)
	}
	var buf []byte
	n := len(o.ids) - o.missing
	k := sort.Search(n, func(i int) bool {
		key, _ := m.schema.SortKey(r.Column, &m.recs[o.ids[i]], buf[:0])
		buf = key
		return bytes.Compare(key, r.Below) >= 0
	})
	return roaring.BitmapOf(o.ids[:k]...)
}

// prepare builds the orderings a query needs before it takes the read lock.
func (m *Model[R]) prepare(q *Query) {
	for _, r := range q.Ranges {
		m.ordering(r.Column)
	}
}

// match returns the records the filter selects; skip leaves out the "any
// of" condition of that dimension (for its facet). The result may be one
// of the model's own bitmaps: read it, do not change it.
func (m *Model[R]) match(f *filter, skip string) *roaring.Bitmap {
	if f.empty {
		return roaring.New()
	}
	var out *roaring.Bitmap
	owned := false // out was made here, and may be changed
	for _, p := range f.must {
		switch {
		case p.any && p.dim == skip:
		case out == nil:
			out = p.b
		case owned:
			out.And(p.b)
		default:
			out, owned = roaring.And(out, p.b), true
		}
	}
	if out == nil {
		out = m.live
	}
	if len(f.not) > 0 {
		if !owned {
			out = out.Clone()
		}
		for _, b := range f.not {
			out.AndNot(b)
		}
	}
	return out
}

// rest returns the records live has and set, the filter's matches with
// skip left out, has not: when the filter has only "none of" conditions,
// the union of their values (cheaper than a difference with live, whose
// containers are full runs); set may then be nil.
func (m *Model[R]) rest(f *filter, skip string, set *roaring.Bitmap) *roaring.Bitmap {
	if m.onlyNone(f, skip) {
		return roaring.FastOr(f.not...)
	}
	return roaring.Xor(m.live, set) // set is a subset of live
}

// onlyNone tells whether the filter, with skip's "any of" left out, has
// only "none of" conditions (or none at all).
func (m *Model[R]) onlyNone(f *filter, skip string) bool {
	return !f.empty && !slices.ContainsFunc(f.must, func(p filterPart) bool { return !(p.any && p.dim == skip) })
}

// search returns the records whose text contains any of the terms. The
// result must not be changed.
func (m *Model[R]) search(terms []string) *roaring.Bitmap {
	parts := make([]*roaring.Bitmap, 0, len(terms))
	for _, t := range terms {
		parts = append(parts, m.searchTerm(t))
	}
	if len(parts) == 1 {
		return parts[0] // cached, never changed in place
	}
	return roaring.FastOr(parts...)
}

// searchTerm returns the records whose text contains term: from the cache,
// or from the trigram index and, for a term it does not answer exactly, a
// check of every candidate. The result must not be changed.
func (m *Model[R]) searchTerm(term string) *roaring.Bitmap {
	term = foldString(term)
	if b := m.searches.get(term); b != nil {
		return b
	}
	found, exact := m.text.find(term)
	if !exact {
		keep := roaring.New()
		it := found.ManyIterator()
		buf := make([]uint32, 1024)
		for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
			for _, id := range buf[:n] {
				if m.hasText(id, term) {
					keep.Add(id)
				}
			}
		}
		found = keep
	}
	found.RunOptimize()
	m.searches.put(term, found)
	return found
}

// hasText tells whether record id's text contains term.
func (m *Model[R]) hasText(id uint32, term string) bool {
	var buf [4]string
	for _, s := range m.schema.Text(&m.recs[id], buf[:0]) {
		if containsFold(s, term) {
			return true
		}
	}
	return false
}

// Total is how many records match the query.
func (m *Model[R]) Total(q Query) int {
	m.prepare(&q)
	m.mu.RLock()
	defer m.mu.RUnlock()
	f := m.filter(&q)
	return int(m.match(&f, "").GetCardinality())
}

// IDs returns every matching record in the query's order (for exports):
// one consistent snapshot, however long the caller takes to use it.
func (m *Model[R]) IDs(q Query) ([]uint32, error) {
	q.After, q.Before, q.Offset, q.Limit = "", "", 0, -1
	p, err := m.Page(q)
	return p.IDs, err
}

// Facets counts, for every value of each dimension, the records that match
// the query with that value, under the query's other conditions: a
// dimension's own "any of" condition is left out (so its options say what
// choosing them would give), its "all of" and "none of" stay.
func (m *Model[R]) Facets(q Query, dims []string) (total int, counts map[string]map[string]int) {
	m.prepare(&q)
	m.mu.RLock()
	defer m.mu.RUnlock()
	f := m.filter(&q)
	all := m.match(&f, "")
	return int(all.GetCardinality()), m.facets(&q, &f, all, dims)
}

// PageAndFacets is Page and Facets of one query, which share the work of
// filtering (a list page shows both).
func (m *Model[R]) PageAndFacets(q Query, dims []string) (Page, map[string]map[string]int, error) {
	m.ordering(q.Column)
	m.prepare(&q)
	m.mu.RLock()
	defer m.mu.RUnlock()
	f := m.filter(&q)
	all := m.match(&f, "")
	p, err := m.page(&q, all)
	if err != nil {
		return p, nil, err
	}
	return p, m.facets(&q, &f, all, dims), nil
}

// Page is one page of matches.
type Page struct {
	IDs   []uint32
	Total int
	// Prev and Next are cursors for the neighbouring pages; "" at an end.
	Prev, Next string
}

// ordering returns the ordering of column, building it the first time.
// It is built under the read lock, so that other queries go on meanwhile
// (at a million records 0.05–0.3 s, see buildOrder), and put in place
// under the write lock (see sortAttempts when a write came in between).
// Orderings built this way are bounded: beyond maxOrders the least recently
// used one is dropped (and built again when next sorted by).
func (m *Model[R]) ordering(column string) {
	if m.touch(column) {
		return
	}
	// One sort at a time: queries that ask for the same new column while
	// it is sorted wait for it rather than sort it again each.
	m.sorting.Lock()
	defer m.sorting.Unlock()
	if m.touch(column) {
		return
	}
	// A write that comes in while it is built leaves it behind: try again
	// a few times under the read lock (a build takes 0.05–0.3 s at a
	// million records, a steady feed writes several times a second) before
	// building it under the write lock, which stops every reader.
	var o *order
	for range sortAttempts {
		m.mu.RLock()
		version, built := m.version, m.buildOrder(column, nil)
		m.mu.RUnlock()
		m.mu.Lock()
		if m.version == version {
			o = built
			break
		}
		m.mu.Unlock()
	}
	if o == nil {
		m.mu.Lock()
		o = m.buildOrder(column, nil)
	}
	defer m.mu.Unlock()
	if m.orders[column] != nil {
		return
	}
	o.used.Store(m.clock.Add(1))
	m.orders[column] = o
	m.evictOrders()
}

// sortAttempts is how many times ordering builds under the read lock.
const sortAttempts = 3

// touch marks column's ordering as used now, and tells whether it has one.
func (m *Model[R]) touch(column string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o := m.orders[column]
	if o != nil {
		o.used.Store(m.clock.Add(1))
	}
	return o != nil
}

// evictOrders drops the least recently used orderings beyond maxOrders,
// never the schema's own columns nor the one the others are built from.
func (m *Model[R]) evictOrders() {
	keep := m.schema.Columns()
	if ts, ok := m.schema.(TieSorter); ok {
		keep = append(slices.Clip(keep), ts.TieColumn())
	}
	for {
		var oldest string
		var at uint64
		extra := 0
		for col, o := range m.orders {
			if !slices.Contains(keep, col) {
				extra++
				if oldest == "" || o.used.Load() < at {
					oldest, at = col, o.used.Load()
				}
			}
		}
		if extra <= m.maxOrders {
			return
		}
		m.dropOrder(oldest)
	}
}

// dropOrder forgets column's ordering, and its position index with it.
func (m *Model[R]) dropOrder(column string) {
	o := m.orders[column]
	if o == nil {
		return
	}
	m.positionsMu.Lock()
	m.withPositions = slices.DeleteFunc(m.withPositions, func(x *order) bool { return x == o })
	m.positionsMu.Unlock()
	delete(m.orders, column)
}

// Page returns the records of one page of the query, in its order.
//
// Positions are virtual: the order read in the query's direction. A page
// is the matches at or after a start position (after a cursor, or from
// the beginning past Offset matches), or before an end (a Before cursor).
// They are found one of two ways:
//   - walking the ordering and checking each id against the matches, when
//     they are many and spread out: a few checks per row;
//   - taking every match's position from the ordering's position index and
//     keeping the nearest ones, when they are few, or when a walk runs long
//     (matches clustered far from the start): one pass over the matches.
func (m *Model[R]) Page(q Query) (Page, error) {
	m.ordering(q.Column)
	m.prepare(&q)
	m.mu.RLock()
	defer m.mu.RUnlock()
	f := m.filter(&q)
	return m.page(&q, m.match(&f, ""))
}

// page is Page for the query's matches, under the read lock.
func (m *Model[R]) page(qp *Query, set *roaring.Bitmap) (Page, error) {
	q := *qp
	o := m.orders[q.Column]
	if o == nil { // dropped, or a Rebuild, came in between: build one for this page
		o = m.buildOrder(q.Column, nil)
	}
	p := Page{Total: int(set.GetCardinality())}
	limit := q.Limit
	if limit < 0 {
		limit = p.Total
	}
	var after, before []byte
	var err error
	if q.After != "" {
		if after, err = decodeCursor(q.After, q.Column); err != nil {
			return p, err
		}
	}
	if q.Before != "" {
		if before, err = decodeCursor(q.Before, q.Column); err != nil {
			return p, err
		}
	}
	r := reader[R]{m: m, o: o, set: set, desc: q.Desc, k: p.Total, all: set == m.live}
	forward := before == nil
	from := 0
	switch {
	case after != nil:
		from = r.locate(after, true)
	case before != nil:
		from = r.locate(before, false)
	}
	skip := 0
	if after == nil && before == nil {
		skip = q.Offset
	}
	rows, more, others := r.collect(from, forward, skip, limit)
	if len(rows) > 0 {
		first, last := r.cursor(rows[0]), r.cursor(rows[len(rows)-1])
		if forward {
			if more {
				p.Next = last
			}
			if others || skip > 0 {
				p.Prev = first
			}
		} else {
			if more {
				p.Prev = first
			}
			if others {
				p.Next = last
			}
		}
	}
	p.IDs = rows
	return p, nil
}

// reader finds a query's matches along an ordering.
type reader[R any] struct {
	m    *Model[R]
	o    *order
	set  *roaring.Bitmap
	desc bool
	k    int  // matches
	all  bool // every record matches
}

// id is the record at virtual position v.
func (r *reader[R]) id(v int) uint32 { return r.o.at(v, r.desc) }

// virtual is the virtual position of physical position p.
func (r *reader[R]) virtual(p int) int {
	present := len(r.o.ids) - r.o.missing
	if r.desc && p < present {
		return present - 1 - p
	}
	return p
}

// locate is the first virtual position whose key comes after cursor key c
// in the walking order (strict) or is not before it.
func (r *reader[R]) locate(c []byte, strict bool) int {
	return sortSearch(len(r.o.ids), func(v int) bool {
		k, _ := r.m.fullKey(r.o.column, r.id(v), nil)
		if bytes.Equal(k, c) {
			return !strict
		}
		return beyond(k, c, r.desc)
	})
}

func (r *reader[R]) cursor(id uint32) string {
	k, _ := r.m.fullKey(r.o.column, id, nil)
	return encodeCursor(k, r.o.column)
}

// defaultWalkBudget is how many positions a walk checks before it gives up
// and takes the matches' positions instead. A walk is only tried when
// matches are dense enough to fill the page well within it (see collect),
// so it runs out only when they cluster away from the start, as when the
// filter is on the sort column: then every position checked is lost.
const defaultWalkBudget = 8192

// collect returns, in walking order, up to limit matches at or after
// virtual position from (forward) or before it (backward, nearest last),
// after skipping skip of them; whether more lie beyond those; and whether
// any match lies on the other side of from.
func (r *reader[R]) collect(from int, forward bool, skip, limit int) (rows []uint32, more, others bool) {
	n := len(r.o.ids)
	want := skip + limit + 1
	if r.all {
		if forward {
			start := min(from+skip, n)
			end := min(start+limit, n)
			for v := start; v < end; v++ {
				rows = append(rows, r.id(v))
			}
			return rows, end < n, from > 0
		}
		start := max(from-limit, 0)
		for v := start; v < from; v++ {
			rows = append(rows, r.id(v))
		}
		return rows, start > 0, from < n
	}
	// Many matches: walk, within a budget, unless the matches wanted are
	// more than the budget would meet at their density.
	if r.k*r.k > r.m.sparse*n && want*n <= r.m.walkBudget*r.k*2 {
		var found []uint32
		steps, v, step, end := 0, from, 1, n
		if !forward {
			v, step, end = from-1, -1, -1
		}
		for ; v != end && len(found) < want && steps < r.m.walkBudget; v, steps = v+step, steps+1 {
			if id := r.id(v); r.set.Contains(id) {
				found = append(found, id)
			}
		}
		if len(found) == want || v == end {
			rows, more = r.trim(found, skip, limit)
			if !forward {
				slices.Reverse(rows)
			}
			return rows, more, r.anyBefore(from, forward)
		}
	}
	return r.selectByPosition(from, forward, skip, limit)
}

// trim drops the skipped matches and keeps limit; more tells whether one
// was left over.
func (r *reader[R]) trim(found []uint32, skip, limit int) ([]uint32, bool) {
	if skip >= len(found) {
		return nil, false
	}
	found = found[skip:]
	more := len(found) > limit
	if more {
		found = found[:limit]
	}
	if found == nil {
		return nil, false
	}
	return found, more
}

// anyBefore tells whether a match lies on the other side of from: before
// it when reading forward, at or after it when reading backward.
func (r *reader[R]) anyBefore(from int, forward bool) bool {
	v, step, end := from-1, -1, -1
	if !forward {
		v, step, end = from, 1, len(r.o.ids)
	}
	for steps := 0; v != end; v, steps = v+step, steps+1 {
		if steps == r.m.walkBudget {
			break
		}
		if r.set.Contains(r.id(v)) {
			return true
		}
	}
	if v == end {
		return false
	}
	pos := r.m.positions(r.o)
	it := r.set.ManyIterator()
	buf := make([]uint32, 256)
	for got := it.NextMany(buf); got > 0; got = it.NextMany(buf) {
		for _, id := range buf[:got] {
			if v := r.virtual(int(pos[id])); forward == (v < from) {
				return true
			}
		}
	}
	return false
}

// selectByPosition finds the page from the matches' positions, in one
// pass over the matches whatever the order or the clustering: few matches
// are sorted by position; many are counted per block of positions, and
// only the blocks that hold the page are then walked.
func (r *reader[R]) selectByPosition(from int, forward bool, skip, limit int) (rows []uint32, more, others bool) {
	pos := r.m.positions(r.o)
	want := skip + limit + 1
	if r.k <= r.m.selectSmall {
		type hit struct {
			v  int
			id uint32
		}
		hits := make([]hit, 0, r.k)
		it := r.set.ManyIterator()
		buf := make([]uint32, 256)
		for got := it.NextMany(buf); got > 0; got = it.NextMany(buf) {
			for _, id := range buf[:got] {
				if v := r.virtual(int(pos[id])); forward == (v >= from) {
					hits = append(hits, hit{v, id})
				} else {
					others = true
				}
			}
		}
		if forward {
			slices.SortFunc(hits, func(a, b hit) int { return a.v - b.v })
		} else {
			slices.SortFunc(hits, func(a, b hit) int { return b.v - a.v })
		}
		ids := make([]uint32, min(len(hits), want))
		for i := range ids {
			ids[i] = hits[i].id
		}
		rows, more = r.trim(ids, skip, limit)
		if !forward {
			slices.Reverse(rows)
		}
		return rows, more, others
	}
	// Count the matches in each block of positions: directly, or, when they
	// are most of the records, as each block's size less the records they
	// leave out.
	n, bs := len(r.o.ids), r.m.blockSize
	counts := make([]int32, n/bs+1)
	counted, sign := r.set, int32(1)
	if 2*r.k > n {
		counted, sign = roaring.Xor(r.m.live, r.set), -1 // the set is a subset of live
		for b := range counts {
			counts[b] = int32(min((b+1)*bs, n) - b*bs)
		}
	}
	it := counted.ManyIterator()
	buf := make([]uint32, 1024)
	for got := it.NextMany(buf); got > 0; got = it.NextMany(buf) {
		for _, id := range buf[:got] {
			counts[r.virtual(int(pos[id]))/bs] += sign
		}
	}
	// Walk from `from`, skipping whole blocks of skipped or no matches;
	// found holds only matches past the skipped ones.
	want = limit + 1
	var found []uint32
	b, step := from/bs, 1
	if !forward {
		b, step = (from-1)/bs, -1
	}
	for ; b >= 0 && b < len(counts) && len(found) < want; b += step {
		lo, hi := b*bs, min((b+1)*bs, n)
		if forward {
			lo = max(lo, from)
		} else {
			hi = min(hi, from)
		}
		whole := hi-lo == bs || (forward && hi == n && lo == b*bs) || (!forward && lo == b*bs && hi == (b+1)*bs)
		if whole && (counts[b] == 0 || skip >= int(counts[b])) {
			skip -= int(counts[b])
			continue
		}
		v, end := lo, hi
		if !forward {
			v, end = hi-1, lo-1
		}
		for ; v != end && len(found) < want; v += step {
			if id := r.id(v); r.set.Contains(id) {
				if skip > 0 {
					skip--
					continue
				}
				found = append(found, id)
			}
		}
	}
	more = len(found) > limit
	if more {
		found = found[:limit]
	}
	if !forward {
		slices.Reverse(found)
	}
	// Any match on the other side of from?
	fb := from / bs
	if !forward {
		fb = (from - 1) / bs
	}
	for i := range counts {
		if counts[i] > 0 && ((forward && i < fb) || (!forward && i > fb)) {
			others = true
			break
		}
	}
	if !others && fb >= 0 && fb < len(counts) && counts[fb] > 0 {
		lo, hi := fb*bs, min((fb+1)*bs, n)
		if forward {
			hi = from
		} else {
			lo = from
		}
		for v := lo; v < hi && !others; v++ {
			others = r.set.Contains(r.id(v))
		}
	}
	return found, more, others
}

// Reading by position: up to defaultSelectSmall matches are sorted
// outright; more are counted per block of defaultBlockSize positions.
const (
	defaultSelectSmall = 4096
	defaultBlockSize   = 1024
)

// beyond tells whether full key k comes after cursor key c in the walking
// order. Descending reads the records with a value backwards, then those
// without forwards (blanks last either way).
func beyond(k, c []byte, desc bool) bool {
	cmp := bytes.Compare(k, c)
	if !desc {
		return cmp > 0
	}
	kv, cv := k[0] == 0, c[0] == 0
	switch {
	case kv && cv:
		return cmp < 0
	case kv != cv:
		return !kv
	}
	return cmp > 0
}

func sortSearch(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if !f(h) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// A cursor is the full key of a row, with its column, in URL-safe base64.
func encodeCursor(key []byte, column string) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte(column+"\x00"), key...))
}

func decodeCursor(s, column string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrCursor
	}
	col, key, ok := bytes.Cut(b, []byte{0})
	if !ok || string(col) != column || len(key) < 6 || key[0] > 1 {
		return nil, ErrCursor
	}
	return key, nil
}
