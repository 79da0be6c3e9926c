package readmodel

import (
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// searchCache keeps the exact results of the most recent search terms. An
// admin pages through one search, and the list asks for the same search
// several times per page (the rows, the total, each facet); a long term
// costs a check of every candidate the trigrams let through (at a million
// endpoints, "fra1" has 160,000). Apply keeps the cached results exact, so
// writes do not empty the cache.
type searchCache struct {
	mu    sync.Mutex
	terms map[string]*roaring.Bitmap
	order []string // oldest first
}

// maxCachedSearches bounds the cache; a result is at most a bitmap of
// every record.
const maxCachedSearches = 64

func (c *searchCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.terms, c.order = map[string]*roaring.Bitmap{}, nil
}

func (c *searchCache) get(term string) *roaring.Bitmap {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.terms[term]
}

func (c *searchCache) put(term string, b *roaring.Bitmap) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.terms[term]; ok {
		return
	}
	if len(c.order) == maxCachedSearches {
		delete(c.terms, c.order[0])
		c.order = c.order[1:]
	}
	c.terms[term] = b
	c.order = append(c.order, term)
}

// update brings the cached results up to date with changed records. It
// runs under the model's write lock, so no reader holds a cached bitmap
// while it changes; a changed bitmap is replaced, not changed in place.
func (c *searchCache) update(ids []changeID, has func(id uint32, term string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for term, b := range c.terms {
		var next *roaring.Bitmap
		for _, ch := range ids {
			in := has(ch.id, term)
			if in != b.Contains(ch.id) {
				if next == nil {
					next = b.Clone()
				}
				if in {
					next.Add(ch.id)
				} else {
					next.Remove(ch.id)
				}
			}
		}
		if next != nil {
			c.terms[term] = next
		}
	}
}
