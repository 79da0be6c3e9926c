package readmodel

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"

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
	Conds []Cond
	// Text: the record's text contains any of these (ignoring ASCII case).
	Text []string

	Column string // sort column
	Desc   bool
	After  string // cursor: the rows after this one
	Before string // cursor: the rows before this one
	Offset int    // without a cursor: rows to skip
	Limit  int
}

// ErrCursor is a cursor that was not made by this model for this order.
var ErrCursor = errors.New("the cursor does not belong to this list or order")

// defaultSparse is how many matches are few enough to sort on their own
// rather than walk the whole ordering looking for them: at a million
// records a walk checks about 1,000,000/k ids per row, a sort costs about
// log k key comparisons per match.
const defaultSparse = 4096

// match returns the records the query's conditions and text select; skip
// leaves out the Any conditions of that dimension (for its facet). The
// result may be one of the model's own bitmaps: read it, do not change it.
func (m *Model[R]) match(q *Query, skip string) *roaring.Bitmap {
	var must []*roaring.Bitmap
	var not []*roaring.Bitmap
	for _, c := range q.Conds {
		values := m.dims[c.Dim]
		switch {
		case c.Mode == Any && c.Dim == skip:
		case c.Mode == Any:
			var parts []*roaring.Bitmap
			for _, v := range c.Values {
				if b := values[v]; b != nil {
					parts = append(parts, b)
				}
			}
			if len(parts) == 1 {
				must = append(must, parts[0])
			} else {
				must = append(must, roaring.FastOr(parts...))
			}
		case c.Mode == All:
			for _, v := range c.Values {
				b := values[v]
				if b == nil {
					return roaring.New()
				}
				must = append(must, b)
			}
		case c.Mode == None:
			for _, v := range c.Values {
				if b := values[v]; b != nil {
					not = append(not, b)
				}
			}
		}
	}
	if len(q.Text) > 0 {
		must = append(must, m.search(q.Text))
	}
	var out *roaring.Bitmap
	switch len(must) {
	case 0:
		if len(not) == 0 {
			return m.live
		}
		out = m.live.Clone()
	case 1:
		if len(not) == 0 {
			return must[0]
		}
		out = must[0].Clone()
	default:
		slices.SortFunc(must, func(a, b *roaring.Bitmap) int { return int(a.GetCardinality()) - int(b.GetCardinality()) })
		out = roaring.FastAnd(must...)
	}
	for _, b := range not {
		out.AndNot(b)
	}
	return out
}

// search returns the records whose text contains any of the terms.
func (m *Model[R]) search(terms []string) *roaring.Bitmap {
	out := roaring.New()
	for _, t := range terms {
		found, exact := m.text.find(t)
		if !exact {
			drop := roaring.New()
			it := found.Iterator()
			for it.HasNext() {
				id := it.Next()
				if !slices.ContainsFunc(m.schema.Text(&m.recs[id]), func(s string) bool { return containsFold(s, t) }) {
					drop.Add(id)
				}
			}
			found.AndNot(drop)
		}
		out.Or(found)
	}
	return out
}

// Total is how many records match the query.
func (m *Model[R]) Total(q Query) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return int(m.match(&q, "").GetCardinality())
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
	m.mu.RLock()
	defer m.mu.RUnlock()
	all := m.match(&q, "")
	counts = make(map[string]map[string]int, len(dims))
	for _, dim := range dims {
		base := all
		if slices.ContainsFunc(q.Conds, func(c Cond) bool { return c.Dim == dim && c.Mode == Any }) {
			base = m.match(&q, dim)
		}
		values := m.dims[dim]
		out := make(map[string]int, len(values))
		for v, b := range values {
			var n uint64
			if base == m.live {
				n = b.GetCardinality()
			} else {
				n = base.AndCardinality(b)
			}
			if n > 0 {
				out[v] = int(n)
			}
		}
		counts[dim] = out
	}
	return int(all.GetCardinality()), counts
}

// Page is one page of matches.
type Page struct {
	IDs   []uint32
	Total int
	// Prev and Next are cursors for the neighbouring pages; "" at an end.
	Prev, Next string
}

// ordering returns the ordering of column, building it the first time.
func (m *Model[R]) ordering(column string) {
	m.mu.RLock()
	o := m.orders[column]
	m.mu.RUnlock()
	if o != nil {
		return
	}
	m.mu.Lock()
	if m.orders[column] == nil {
		m.orders[column] = m.buildOrder(column)
	}
	m.mu.Unlock()
}

// Page returns the records of one page of the query, in its order.
func (m *Model[R]) Page(q Query) (Page, error) {
	m.ordering(q.Column)
	m.mu.RLock()
	defer m.mu.RUnlock()
	o := m.orders[q.Column]
	if o == nil { // a Rebuild came in between; it keeps the schema's columns
		o = m.buildOrder(q.Column)
	}
	set := m.match(&q, "")
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
	w := m.walker(o, set, q.Desc)
	var rows []uint32
	first := 0 // position of the first row
	if before != nil {
		// Backwards from the cursor, then the rows put back in order.
		end := w.locate(before, false)
		for v := end - 1; v >= 0 && len(rows) <= limit; v-- {
			if id, ok := w.at(v); ok {
				rows = append(rows, id)
			}
		}
		if len(rows) > limit {
			rows = rows[:limit]
			p.Prev = w.cursor(rows[len(rows)-1])
		}
		slices.Reverse(rows)
		if len(rows) > 0 && w.anyMatch(end, w.n) {
			p.Next = w.cursor(rows[len(rows)-1])
		}
		p.IDs = rows
		return p, nil
	}
	v := 0
	if after != nil {
		v = w.locate(after, true)
	}
	skip := q.Offset
	for ; v < w.n && len(rows) <= limit; v++ {
		id, ok := w.at(v)
		if !ok {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(rows) == 0 {
			first = v
		}
		rows = append(rows, id)
	}
	if len(rows) > limit {
		rows = rows[:limit]
		p.Next = w.cursor(rows[len(rows)-1])
	}
	if len(rows) > 0 && w.anyMatch(0, first) {
		p.Prev = w.cursor(rows[0])
	}
	p.IDs = rows
	return p, nil
}

// walker reads the matches of a query in order: either the matches sorted
// on their own, when few, or the column's ordering filtered as it is
// walked, when many.
type walker struct {
	n       int                        // positions
	at      func(v int) (uint32, bool) // the id at v, and whether it matches
	key     func(v int) []byte         // its full key
	beyond  func(k, c []byte) bool
	column  string
	keyOfID func(id uint32) []byte
}

func (m *Model[R]) walker(o *order, set *roaring.Bitmap, desc bool) *walker {
	w := &walker{column: o.column, beyond: func(k, c []byte) bool { return beyond(k, c, desc) },
		keyOfID: func(id uint32) []byte { k, _ := m.fullKey(o.column, id, nil); return k }}
	total := int(set.GetCardinality())
	if total <= m.sparse || (total*8 <= len(o.ids) && total <= 16*m.sparse) {
		ids := m.sortedMatches(o, set, desc)
		w.n = len(ids)
		w.at = func(v int) (uint32, bool) { return ids[v], true }
		w.key = func(v int) []byte { return w.keyOfID(ids[v]) }
		return w
	}
	all := set == m.live
	w.n = len(o.ids)
	w.at = func(v int) (uint32, bool) {
		id := o.at(v, desc)
		return id, all || set.Contains(id)
	}
	w.key = func(v int) []byte { return w.keyOfID(o.at(v, desc)) }
	return w
}

// locate is the first position whose key is beyond cursor c in walking
// order (strict) or not before it.
func (w *walker) locate(c []byte, strict bool) int {
	return sortSearch(w.n, func(v int) bool {
		k := w.key(v)
		if bytes.Equal(k, c) {
			return !strict
		}
		return w.beyond(k, c)
	})
}

// anyMatch tells whether a match lies in positions [from, to).
func (w *walker) anyMatch(from, to int) bool {
	for v := from; v < to; v++ {
		if _, ok := w.at(v); ok {
			return true
		}
	}
	return false
}

func (w *walker) cursor(id uint32) string { return encodeCursor(w.keyOfID(id), w.column) }

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

// sortedMatches returns the matches in walking order, sorted on their own.
func (m *Model[R]) sortedMatches(o *order, set *roaring.Bitmap, desc bool) []uint32 {
	type entry struct {
		key []byte
		id  uint32
	}
	entries := make([]entry, 0, set.GetCardinality())
	it := set.Iterator()
	for it.HasNext() {
		id := it.Next()
		k, _ := m.fullKey(o.column, id, nil)
		entries = append(entries, entry{k, id})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case bytes.Equal(a.key, b.key):
			return 0
		case beyond(a.key, b.key, desc):
			return 1
		}
		return -1
	})
	ids := make([]uint32, len(entries))
	for i, e := range entries {
		ids[i] = e.id
	}
	return ids
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
