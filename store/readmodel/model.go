package readmodel

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// Schema tells the model what a record of type R means for filtering,
// searching and sorting.
type Schema[R any] interface {
	// Terms calls add with every term of r: a dimension and a value.
	Terms(r *R, add func(dim, value string))
	// Text appends to buf the strings a search looks in (name, address).
	Text(r *R, buf []string) []string
	// SortKey appends r's key for column to buf: byte strings that compare
	// in the column's ascending order. ok is false when r has no value
	// for the column; such records sort after all others.
	SortKey(column string, r *R, buf []byte) (key []byte, ok bool)
	// TieKey appends the key that orders records with equal sort keys
	// (the folded name); the record's id comes after it.
	TieKey(r *R, buf []byte) []byte
	// Columns are the sort columns whose orderings are kept from the start;
	// any other column's is built the first time it is sorted by.
	Columns() []string
}

// defaultMaxOrders: at a million records an ordering is 4 MB; the list has
// 12 sort columns and one per label key, and an admin sorts by a few. One
// dropped is built again in 0.05–0.3 s (see buildOrder).
const defaultMaxOrders = 4

// maxPositions is how many orderings keep a position index at once (4 bytes
// a record each). Making one costs a pass over the ordering (~5 ms at a
// million records), and any write makes it again anyway.
const maxPositions = 2

// Change replaces (or, with Rec nil, removes) one record.
type Change[R any] struct {
	ID  uint32
	Rec *R
}

type changeID struct{ id uint32 }

// Model is the in-memory index of records of type R, by id.
type Model[R any] struct {
	schema Schema[R]

	mu   sync.RWMutex
	recs []R
	live *roaring.Bitmap
	dims map[string]map[string]*roaring.Bitmap // dimension → value → ids
	text textIndex
	// searches keeps recent search terms' exact results (see search.go).
	searches searchCache
	// groups are the schema's grouped dimensions, with each record's group
	// slot in each of them (facets.go).
	groups  []groupColumn[R]
	orders  map[string]*order
	clock   atomic.Uint64 // counts sorts, for dropping the least used orderings
	sorting sync.Mutex    // held while an ordering is built on demand
	// withPositions are the orderings that keep a position index, the most
	// recently used last.
	positionsMu   sync.Mutex
	withPositions []*order
	version       uint64
	// sparse and walkBudget choose how a page is read (see Page); tests
	// change them to read small models every way.
	sparse, walkBudget, selectSmall, blockSize, facetWay, slotLimit int
	// maxOrders bounds the orderings built on demand, beyond the schema's
	// Columns.
	maxOrders int
	// maxBuckets: columns with more keys than this are not built by
	// bucketOrder (tests lower it to build small models every way).
	maxBuckets int
}

// New returns an empty model.
func New[R any](schema Schema[R]) *Model[R] {
	m := &Model[R]{schema: schema, sparse: defaultSparse, walkBudget: defaultWalkBudget,
		selectSmall: defaultSelectSmall, blockSize: defaultBlockSize, slotLimit: maxSlots, maxOrders: defaultMaxOrders, maxBuckets: defaultMaxBuckets}
	m.reset()
	return m
}

func (m *Model[R]) reset() {
	m.version++ // an ordering being built for what was here is not put in
	m.recs = nil
	m.live = roaring.New()
	m.dims = map[string]map[string]*roaring.Bitmap{}
	m.text = newTextIndex()
	m.searches.reset()
	m.orders = map[string]*order{}
	m.positionsMu.Lock()
	m.withPositions = nil
	m.positionsMu.Unlock()
	m.groups = newGroupColumns(m.schema)
}

// Rebuild replaces everything with the records each yields, then builds the
// orderings of the schema's columns. maxID, when known, sizes the storage
// at once. each runs on a goroutine of its own, so reading the records (a
// database scan) and indexing them use two cores; so does sorting each
// ordering (one after another: see buildOrder).
func (m *Model[R]) Rebuild(maxID uint32, each func(yield func(id uint32, r *R) error) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reset()
	m.recs = make([]R, 0, maxID+1)
	for i := range m.groups {
		m.groups[i].slots = make([]uint16, 0, maxID+1)
	}
	type item struct {
		id uint32
		r  R
	}
	const batchSize = 4096
	batches := make(chan []item, 4)
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(batches)
		batch := make([]item, 0, batchSize)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]item, 0, batchSize)
				return true
			case <-stop:
				return false
			}
		}
		err := each(func(id uint32, r *R) error {
			if batch = append(batch, item{id, *r}); len(batch) == batchSize && !send() {
				return errStopped
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			send()
		}
		errc <- err
	}()
	for batch := range batches {
		for i := range batch {
			m.put(batch[i].id, &batch[i].r)
		}
	}
	close(stop)
	if err := <-errc; err != nil {
		m.reset()
		return err
	}
	// Compress postings into runs where that is smaller, but not the set
	// of every record: it is the start of every "none of" filter, and a
	// run container with many holes cut out makes each later intersection
	// a binary search per value (a facet of 20,000 endpoints took 7 ms).
	for _, b := range m.allBitmaps()[1:] {
		b.RunOptimize()
	}
	// The tie column first: the others may be built from its ordering.
	columns := m.schema.Columns()
	if ts, ok := m.schema.(TieSorter); ok {
		columns = append([]string{ts.TieColumn()}, slices.DeleteFunc(slices.Clone(columns), func(c string) bool { return c == ts.TieColumn() })...)
	}
	var scratch [2]sortedKeys
	for _, col := range columns {
		m.orders[col] = m.buildOrder(col, &scratch)
	}
	m.version++
	return nil
}

var errStopped = errors.New("readmodel: rebuild stopped")

// Apply makes a batch of changes, as one step: a reader sees all or none.
func (m *Model[R]) Apply(changes []Change[R]) {
	if len(changes) == 0 {
		return
	}
	// Each id once, with its last change.
	last := make(map[uint32]int, len(changes))
	for i, ch := range changes {
		last[ch.ID] = i
	}
	ids := make([]changeID, 0, len(last))
	for i, ch := range changes {
		if last[ch.ID] == i {
			ids = append(ids, changeID{ch.ID})
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Take the changed records out of every ordering while their keys are
	// still the old ones, then change them, then put them back in.
	for _, o := range m.orders {
		o.remove(m, ids)
	}
	for _, ch := range changes {
		m.drop(ch.ID)
		if ch.Rec != nil {
			m.put(ch.ID, ch.Rec)
		}
	}
	for _, o := range m.orders {
		o.insert(m, ids)
	}
	m.searches.update(ids, func(id uint32, term string) bool { return m.exists(id) && m.hasText(id, term) })
	m.version++
}

// Len is the number of records.
func (m *Model[R]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return int(m.live.GetCardinality())
}

// Get returns a copy of record id.
func (m *Model[R]) Get(id uint32) (R, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.exists(id) {
		var zero R
		return zero, false
	}
	return m.recs[id], true
}

// Read calls fn with the record of each of ids that exists, in order,
// under the read lock: what fn reads of the record is consistent with what
// the schema sees. fn must not call the model.
func (m *Model[R]) Read(ids []uint32, fn func(id uint32, r *R)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, id := range ids {
		if m.exists(id) {
			fn(id, &m.recs[id])
		}
	}
}

// Rewrite calls fn with every record, under the write lock, then done. fn
// may change a record only in ways that change none of its terms, text,
// keys or groups (moving its text elsewhere, say); done may change what
// the schema reads them with.
func (m *Model[R]) Rewrite(fn func(id uint32, r *R), done func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.live.Iterator()
	for it.HasNext() {
		id := it.Next()
		fn(id, &m.recs[id])
	}
	done()
}

func (m *Model[R]) exists(id uint32) bool { return m.live.Contains(id) }

// put adds a record that is not present.
func (m *Model[R]) put(id uint32, r *R) {
	if int(id) >= len(m.recs) {
		m.recs = slices.Grow(m.recs, int(id)+1-len(m.recs))[:id+1]
	}
	m.recs[id] = *r
	m.live.Add(id)
	m.putGroups(id, r)
	m.terms(r, func(b *roaring.Bitmap) { b.Add(id) })
	var buf [4]string
	for _, s := range m.schema.Text(r, buf[:0]) {
		m.text.add(id, s)
	}
}

// drop removes a record if present. Empty bitmaps stay: a value that comes
// and goes keeps its place (and its zero count) in the facets.
func (m *Model[R]) drop(id uint32) {
	if !m.exists(id) {
		return
	}
	r := &m.recs[id]
	m.dropGroups(id)
	m.terms(r, func(b *roaring.Bitmap) { b.Remove(id) })
	var buf [4]string
	for _, s := range m.schema.Text(r, buf[:0]) {
		m.text.remove(id, s)
	}
	m.live.Remove(id)
	m.recs[id] = *new(R)
}

// terms calls do with the bitmap of each of r's terms that its groups do
// not give (see putGroups), making bitmaps as needed.
func (m *Model[R]) terms(r *R, do func(*roaring.Bitmap)) {
	if m.allGrouped() {
		return
	}
	m.schema.Terms(r, func(dim, value string) {
		if m.grouped(dim) {
			return
		}
		do(m.bitmap(dim, value))
	})
}

// bitmap is the bitmap of a term, made empty the first time.
func (m *Model[R]) bitmap(dim, value string) *roaring.Bitmap {
	values := m.dims[dim]
	if values == nil {
		values = map[string]*roaring.Bitmap{}
		m.dims[dim] = values
	}
	b := values[value]
	if b == nil {
		b = roaring.New()
		values[value] = b
	}
	return b
}

func (m *Model[R]) allBitmaps() []*roaring.Bitmap {
	out := []*roaring.Bitmap{m.live}
	for _, values := range m.dims {
		for _, b := range values {
			out = append(out, b)
		}
	}
	return append(out, m.text.bitmaps()...)
}

// Values lists the values of a dimension that occur or occurred.
func (m *Model[R]) Values(dim string) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.dims[dim]))
	for v, b := range m.dims[dim] {
		if !b.IsEmpty() {
			out = append(out, v)
		}
	}
	return out
}

// Count is how many records have a term.
func (m *Model[R]) Count(dim, value string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if b := m.dims[dim][value]; b != nil {
		return int(b.GetCardinality())
	}
	return 0
}

// Forget drops the ordering of a column whose keys changed for every record
// at once (a schedule renamed): it is built again when next sorted by.
func (m *Model[R]) Forget(column string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++ // an ordering being built with the old keys is not put in
	keep := slices.Contains(m.schema.Columns(), column)
	m.dropOrder(column)
	if keep {
		m.orders[column] = m.buildOrder(column, nil)
	}
}
