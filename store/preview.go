package store

import (
	"cmp"
	"context"
	"slices"
)

// Preview is what an action would do, found by running it and rolling it
// back: how many endpoints would change, the first of them by name, and
// what they would become.
type Preview struct {
	Matched, Changed int
	Names            []string // the first changed endpoints, by name
	Becomes          []Becoming
}

// Becoming is a count of endpoints whose primary exemption (or, with none,
// impact) would change to this.
type Becoming struct {
	Primary Code // "" when they would become patchable
	Impact  Impact
	Count   int
}

// previewNames is how many names a preview lists.
const previewNames = 10

type previewKey struct{}

// PreviewOf runs an action in a transaction that is rolled back and says
// what it would have done. The action is any of DB's actions, called with
// the context it is given.
func (db *DB) PreviewOf(ctx context.Context, action func(ctx context.Context) (ActionResult, error)) (Preview, error) {
	p := &Preview{}
	res, err := action(context.WithValue(ctx, previewKey{}, p))
	p.Matched, p.Changed = res.Matched, res.Changed
	return *p, err
}

// preview fills the preview of the transaction's changes; the caller rolls
// the transaction back.
func (t *txn) preview(p *Preview) {
	becomes := map[[2]uint8]int{}
	for id, after := range t.changed {
		p.Names = append(p.Names, after.name)
		before, ok := t.db.list.model.Get(uint32(id))
		if ok && before.primary == after.primary && before.impact == after.impact {
			continue
		}
		becomes[[2]uint8{after.primary, after.impact}]++
	}
	slices.SortFunc(p.Names, func(a, b string) int { return cmp.Compare(NameKey(a), NameKey(b)) })
	p.Names = p.Names[:min(len(p.Names), previewNames)]
	for k, n := range becomes {
		b := Becoming{Impact: Impact(k[1]), Count: n}
		if k[0] != 0 {
			b.Primary = Catalog[k[0]-1].Code
		}
		p.Becomes = append(p.Becomes, b)
	}
	slices.SortFunc(p.Becomes, func(a, b Becoming) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Primary, b.Primary))
	})
}
