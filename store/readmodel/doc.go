// Package readmodel answers the Servers list's questions — which endpoints
// match a filter, how many match each filter option, and which page of
// them comes next in any sort order — from memory, in about a millisecond
// at a million endpoints.
//
// SQLite stays the source of truth; this is a derived index, rebuilt at
// start and kept current by the one writer, which applies every committed
// change here in the same code path. It knows nothing of patchready's
// domain: a Schema turns a record into
//
//   - terms ("impact=cannot-patch", "label=env:prod"), each with a
//     compressed bitmap (roaring) of the records that have it, so a filter
//     is a few bitmap operations; a facet count is an AND-cardinality or,
//     for a schema that groups its records (Grouper), a walk of the set
//     through a column of group numbers, whichever an estimate says is
//     cheaper (facets.go);
//   - text (name and address), indexed by trigrams, so a substring search
//     is a bitmap lookup for short terms and an intersection plus a check
//     for long ones;
//   - sort keys, byte strings whose order is the column's order, from which
//     an ordering of every record is built the first time a column is
//     sorted and kept current afterwards. A page is a walk along the
//     ordering from a cursor (the key of the last row seen), never an
//     OFFSET, or, when few records match, a sort of just those. Only the
//     tie column's ordering (TieSorter: the name) needs its keys sorted;
//     another column's is built from it, by bucketing when it has few
//     keys and by sorting numbers with tie ranks when its keys are of one
//     width (order.go), so the few kept beyond the schema's are cheap to
//     build again.
//
// A new filter dimension or sort column is therefore a change to the
// schema only (store/dimensions.go); nothing here names one.
package readmodel
