package readmodel

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// order is every record id, sorted by the full key of one column:
//
//	[0 if it has a value, 1 if not] key 0x00 tie-key 0x00 id
//
// The full key is unique (it ends in the id) and its bytes compare in the
// column's ascending order with records without a value last. Descending
// order reads the records with a value backwards and then those without
// forwards, so blanks come last either way.
type order struct {
	column  string
	ids     []uint32
	missing int           // how many ids at the end have no value
	used    atomic.Uint64 // the model's clock when last sorted by

	// pos is the position of each id in ids, made when a query needs it
	// and kept until the model changes (Apply moves positions) or other
	// orderings' indexes push it out (Model.positions).
	posMu  sync.Mutex
	pos    []uint32
	posFor uint64 // the model version pos was made for
}

// positions returns o's position index for the model's version. Only
// maxPositions orderings keep one: using another's drops the least recently
// used. A query still reading a dropped index goes on reading it (it is let
// go, never reused), so dropping needs no lock but the ordering's own.
func (m *Model[R]) positions(o *order) []uint32 {
	pos := o.positions(m.version, len(m.recs))
	if m.orders[o.column] != o {
		return pos // an ordering made for one query (see page) is not kept
	}
	m.positionsMu.Lock()
	m.withPositions = append(slices.DeleteFunc(m.withPositions, func(x *order) bool { return x == o }), o)
	var drop []*order
	if over := len(m.withPositions) - maxPositions; over > 0 {
		drop = slices.Clone(m.withPositions[:over])
		m.withPositions = slices.Delete(m.withPositions, 0, over)
	}
	m.positionsMu.Unlock()
	for _, d := range drop {
		d.dropPositions()
	}
	return pos
}

// positions returns the position index for the model's version.
func (o *order) positions(version uint64, size int) []uint32 {
	o.posMu.Lock()
	defer o.posMu.Unlock()
	if o.pos == nil || o.posFor != version || len(o.pos) < size {
		// An index of an older version is overwritten in place: the
		// version only changes under the model's write lock, so no query
		// is still reading it.
		if cap(o.pos) >= size {
			o.pos = o.pos[:size]
		} else {
			o.pos = make([]uint32, size)
		}
		for p, id := range o.ids {
			o.pos[id] = uint32(p)
		}
		o.posFor = version
	}
	return o.pos
}

func (o *order) dropPositions() {
	o.posMu.Lock()
	o.pos = nil
	o.posMu.Unlock()
}

// fullKey appends the full key of record id for column to buf.
func (m *Model[R]) fullKey(column string, id uint32, buf []byte) ([]byte, bool) {
	r := &m.recs[id]
	buf = append(buf, 0)
	key, ok := m.schema.SortKey(column, r, buf)
	if !ok {
		key = append(buf[:len(buf)-1], 1)
	}
	key = append(key, 0)
	key = m.schema.TieKey(r, key)
	key = append(key, 0)
	return binary.BigEndian.AppendUint32(key, id), ok
}

// buildOrder sorts every record by column. Its memory is the build's peak
// (at a million records the keys are tens of MB), so the schema's columns
// are sorted one after another rather than side by side, and each is sorted
// in two halves on two goroutines, each half's keys made into an arena of
// exactly their size, then merged straight into the order. A caller that
// sorts several columns passes the same scratch to each, so that their
// arenas are reused rather than left to the collector one after another.
func (m *Model[R]) buildOrder(column string, scratch *[2]sortedKeys) *order {
	if tie := m.tieOrder(column); tie != nil {
		if o := bucketOrder(m, column, tie); o != nil {
			return o
		}
		if o := rankOrder(m, column, tie); o != nil {
			return o
		}
	}
	n := int(m.live.GetCardinality())
	o := &order{column: column, ids: make([]uint32, 0, n)}
	if n == 0 {
		return o
	}
	mid, _ := m.live.Select(uint32(n / 2)) // the first id of the second half
	if scratch == nil {
		scratch = new([2]sortedKeys)
	}
	a, b := &scratch[0], &scratch[1]
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.sort(m, m.live, column, mid, math.MaxUint32+1, n-n/2)
	}()
	a.sort(m, m.live, column, 0, uint64(mid), n/2)
	wg.Wait()
	i, j := 0, 0
	for i < len(a.entries) && j < len(b.entries) {
		if bytes.Compare(a.key(i), b.key(j)) <= 0 {
			o.ids = append(o.ids, a.entries[i].id)
			i++
		} else {
			o.ids = append(o.ids, b.entries[j].id)
			j++
		}
	}
	for ; i < len(a.entries); i++ {
		o.ids = append(o.ids, a.entries[i].id)
	}
	for ; j < len(b.entries); j++ {
		o.ids = append(o.ids, b.entries[j].id)
	}
	o.missing = a.missing + b.missing
	return o
}

// TieSorter is a schema with a column that sorts by the tie key alone (its
// SortKey is always empty and ok). Other columns with few distinct keys
// are then built from that column's ordering without sorting.
type TieSorter interface {
	TieColumn() string
}

// defaultMaxBuckets is how many distinct keys a column may have to be built
// by bucketOrder; bucket numbers are kept in 16 bits.
const defaultMaxBuckets = 4096

// tieOrder is the ordering other columns can be built from (see
// TieSorter), or nil.
func (m *Model[R]) tieOrder(column string) *order {
	ts, ok := m.schema.(TieSorter)
	if !ok || column == ts.TieColumn() {
		return nil
	}
	if tie := m.orders[ts.TieColumn()]; tie != nil && tie.missing == 0 {
		return tie
	}
	return nil
}

// bucketOrder builds column's ordering from the tie column's: every record
// in tie order, put stably into a bucket per sort key, the buckets in key
// order. For an enumeration or a label that is two passes over the records
// (~0.1 s at a million, not the ~1 s and tens of MB of keys of a sort).
// nil when the column has more than m.maxBuckets keys, or keys that would not
// sort apart from the tie keys.
func bucketOrder[R any](m *Model[R], column string, tie *order) *order {
	// A bucket's key is how the column's full keys begin (see fullKey):
	// 0 and the sort key, or 1 for no value.
	index := map[string]int{}
	var keys []string
	var counts []int
	bucket := make([]uint16, len(tie.ids))
	buf := make([]byte, 0, 64)
	for p, id := range tie.ids {
		key, ok := m.schema.SortKey(column, &m.recs[id], append(buf[:0], 0))
		if !ok {
			key = append(key[:0], 1)
		}
		b, seen := index[string(key)]
		if !seen {
			if len(keys) == m.maxBuckets {
				return nil
			}
			b = len(keys)
			index[string(key)] = b
			keys = append(keys, string(key))
			counts = append(counts, 0)
		}
		bucket[p] = uint16(b)
		counts[b]++
		buf = key
	}
	byKey := make([]int, len(keys))
	for i := range byKey {
		byKey[i] = i
	}
	slices.SortFunc(byKey, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	// A full key is the bucket key, 0, the tie key, 0, the id. Buckets sort
	// whole unless one key is another's prefix followed by a 0 byte: then
	// their records interleave by tie key. Keys in order show that in a
	// neighbour, if anywhere.
	for i := 1; i < len(byKey); i++ {
		if a, b := keys[byKey[i-1]], keys[byKey[i]]; strings.HasPrefix(b, a) && b[len(a)] == 0 {
			return nil
		}
	}
	start := make([]int, len(keys))
	at := 0
	for _, b := range byKey {
		start[b] = at
		at += counts[b]
	}
	o := &order{column: column, ids: make([]uint32, len(tie.ids))}
	for p, id := range tie.ids {
		o.ids[start[bucket[p]]] = id
		start[bucket[p]]++
	}
	if b, ok := index["\x01"]; ok {
		o.missing = counts[b]
	}
	return o
}

// rankOrder builds column's ordering when its keys are all of one width
// of at most 16 bytes (a time, a disk use, an address): sorted by the key
// as a number and then by position in the tie column's ordering, which
// stands for the tie key and the id. That sorts 16 or 24 bytes a record and
// makes no keys; the records without a value follow in tie order. Bytes
// every key begins with are left out (IPv4 addresses are 16-byte keys
// that differ in their last four). nil for other keys.
func rankOrder[R any](m *Model[R], column string, tie *order) *order {
	var first []byte // the first key, cut to the prefix all share
	width := -1
	buf := make([]byte, 0, 32)
	for _, id := range tie.ids {
		key, ok := m.schema.SortKey(column, &m.recs[id], buf[:0])
		buf = key[:0]
		if !ok {
			continue
		}
		if width < 0 {
			width, first = len(key), slices.Clone(key)
		}
		if len(key) != width || width > 16 {
			return nil
		}
		for i := range first {
			if key[i] != first[i] {
				first = first[:i]
				break
			}
		}
	}
	skip := len(first)
	if width-skip <= 8 {
		return sortByRank(m, column, tie, func(k []byte) uint64 { return pack(k[skip:]) }, cmp.Compare[uint64])
	}
	type wide struct{ hi, lo uint64 }
	return sortByRank(m, column, tie, func(k []byte) wide { return wide{pack(k[:8]), pack(k[8:])} },
		func(a, b wide) int {
			if c := cmp.Compare(a.hi, b.hi); c != 0 {
				return c
			}
			return cmp.Compare(a.lo, b.lo)
		})
}

// pack is up to 8 key bytes as a number that compares as they do.
func pack(k []byte) uint64 {
	var n uint64
	for _, b := range k {
		n = n<<8 | uint64(b)
	}
	return n
}

// sortByRank is rankOrder for keys packed as K.
func sortByRank[R, K any](m *Model[R], column string, tie *order, packKey func([]byte) K, compare func(a, b K) int) *order {
	type entry struct {
		key  K
		rank uint32
	}
	entries := make([]entry, 0, len(tie.ids))
	var missing []uint32
	buf := make([]byte, 0, 32)
	for p, id := range tie.ids {
		key, ok := m.schema.SortKey(column, &m.recs[id], buf[:0])
		buf = key[:0]
		if !ok {
			missing = append(missing, id)
			continue
		}
		entries = append(entries, entry{packKey(key), uint32(p)})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	o := &order{column: column, ids: make([]uint32, 0, len(tie.ids)), missing: len(missing)}
	for _, e := range entries {
		o.ids = append(o.ids, tie.ids[e.rank])
	}
	o.ids = append(o.ids, missing...)
	return o
}

// sortedKeys is the records with ids in [lo, hi) sorted by their full keys
// for one column. Entries point into one arena by offset: 12 bytes each
// rather than a slice's 32.
type sortedKeys struct {
	entries []struct{ start, end, id uint32 }
	arena   []byte
	missing int // how many have no value
}

func (k *sortedKeys) key(i int) []byte { return k.arena[k.entries[i].start:k.entries[i].end] }

// sort makes and sorts the keys of the n live records with ids in
// [lo, hi), in k's buffers when they are large enough. The keys are made
// twice, once to size the arena: an arena grown by appending would at its
// last doubling hold twice its keys.
func (k *sortedKeys) sort(m keyer, live *roaring.Bitmap, column string, lo uint32, hi uint64, n int) {
	each := func(fn func(id uint32)) {
		it := live.Iterator()
		it.AdvanceIfNeeded(lo)
		for it.HasNext() && uint64(it.PeekNext()) < hi {
			fn(it.Next())
		}
	}
	size := 0
	var buf []byte
	each(func(id uint32) {
		buf, _ = m.key(column, id, buf[:0])
		size += len(buf)
	})
	if k.arena = k.arena[:0]; cap(k.arena) < size {
		k.arena = make([]byte, 0, size)
	}
	if k.entries = k.entries[:0]; cap(k.entries) < n {
		k.entries = make([]struct{ start, end, id uint32 }, 0, n)
	}
	k.missing = 0
	each(func(id uint32) {
		start := len(k.arena)
		var ok bool
		if k.arena, ok = m.key(column, id, k.arena); !ok {
			k.missing++
		}
		k.entries = append(k.entries, struct{ start, end, id uint32 }{uint32(start), uint32(len(k.arena)), id})
	})
	slices.SortFunc(k.entries, func(a, b struct{ start, end, id uint32 }) int {
		return bytes.Compare(k.arena[a.start:a.end], k.arena[b.start:b.end])
	})
}

// search is the first position whose full key is not below key.
func (o *order) search(m keyer, key []byte) int {
	var buf []byte
	return sort.Search(len(o.ids), func(i int) bool {
		buf, _ = m.key(o.column, o.ids[i], buf[:0])
		return bytes.Compare(buf, key) >= 0
	})
}

// keyer is the part of the model an order needs; it keeps order free of
// the record type.
type keyer interface {
	key(column string, id uint32, buf []byte) ([]byte, bool)
	present(id uint32) bool
}

func (m *Model[R]) key(column string, id uint32, buf []byte) ([]byte, bool) {
	return m.fullKey(column, id, buf)
}

func (m *Model[R]) present(id uint32) bool { return m.exists(id) }

// remove takes the changed records that exist out of the order, found by
// their current (old) keys.
func (o *order) remove(m keyer, changes []changeID) {
	var at []int
	var buf []byte
	for _, ch := range changes {
		if !m.present(ch.id) {
			continue
		}
		var ok bool
		buf, ok = m.key(o.column, ch.id, buf[:0])
		i := o.search(m, buf)
		if i < len(o.ids) && o.ids[i] == ch.id {
			at = append(at, i)
			if !ok {
				o.missing--
			}
		}
	}
	if len(at) == 0 {
		return
	}
	slices.Sort(at)
	at = slices.Compact(at)
	// Close the gaps in one pass over the part after the first.
	w := at[0]
	for k, i := range at {
		end := len(o.ids)
		if k+1 < len(at) {
			end = at[k+1]
		}
		w += copy(o.ids[w:], o.ids[i+1:end])
	}
	o.ids = o.ids[:w]
}

// insert puts the changed records that exist now into the order, by their
// new keys.
func (o *order) insert(m keyer, changes []changeID) {
	type ins struct {
		key []byte
		id  uint32
		at  int
	}
	var add []ins
	for _, ch := range changes {
		if !m.present(ch.id) {
			continue
		}
		key, ok := m.key(o.column, ch.id, nil)
		if !ok {
			o.missing++
		}
		add = append(add, ins{key: key, id: ch.id})
	}
	if len(add) == 0 {
		return
	}
	slices.SortFunc(add, func(a, b ins) int { return bytes.Compare(a.key, b.key) })
	add = slices.CompactFunc(add, func(a, b ins) bool { return a.id == b.id })
	for i := range add {
		add[i].at = o.search(m, add[i].key)
	}
	// Grow, then fill from the back: each existing run moves once.
	n := len(o.ids)
	o.ids = slices.Grow(o.ids, len(add))[:n+len(add)]
	end := n
	for k := len(add) - 1; k >= 0; k-- {
		at := add[k].at
		copy(o.ids[at+k+1:end+k+1], o.ids[at:end])
		o.ids[at+k] = add[k].id
		end = at
	}
}

// at is the id at virtual position v of the order read in direction desc.
func (o *order) at(v int, desc bool) uint32 {
	present := len(o.ids) - o.missing
	if desc && v < present {
		return o.ids[present-1-v]
	}
	return o.ids[v]
}
