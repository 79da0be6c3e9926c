package store

import (
	"context"
	"slices"
	"strings"
)

// Some combinations of filters have no index of their own: two of OS,
// protocol and low disk, or one exemption with any of OS, protocol and low
// disk. Walking one filter's index in name order and checking the
// others row by row can read a long stretch before finding a page of
// matches (names cluster: Windows endpoints over WEB took 112 ms at a
// million). Instead, each combination of dims (migration 006) that the
// filter allows and that the counters say occurs is one index range in
// name order, and one UNION ALL of those ranges ordered by name lets
// SQLite merge them as it reads: a page costs about a page of rows plus one
// per range, wherever the matches lie.

// mergeable tells whether f is read by merging: name order from the start
// or from a cursor, no text search, at most one exemption, and a
// combination the other indexes do not serve on their own.
func (f *Filter) mergeable() bool {
	if f.Q != "" || len(f.Exemptions) > 1 || (f.Sort != "" && f.Sort != "name") || (!f.keyset() && f.Page > 1) {
		return false
	}
	n := 0
	for _, on := range []bool{f.OS != "", f.Protocol != "", f.LowDisk} {
		if on {
			n++
		}
	}
	if len(f.Exemptions) == 1 {
		return n > 0 // with the impact alone, migration 007's index serves
	}
	return n >= 2
}

// dimsRanges are the dims values f allows that occur in the counters.
func dimsRanges(cells []cell, f *Filter) []int {
	base := f.baseCode()
	var out []int
	for _, c := range cells {
		if c.Code == base && c.n > 0 && f.matches(c.countKey, "") {
			if d := dimsOf(c.Impact, c.OS, c.Protocol, c.LowDisk); !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// mergedPage reads one page of a mergeable filter.
func (db *DB) mergedPage(ctx context.Context, f Filter, withDrives bool, names map[int64]string) (Page, error) {
	var p Page
	c, err := db.currentCounts(ctx)
	if err != nil {
		return p, err
	}
	ranges := dimsRanges(c.list, &f)
	if len(ranges) == 0 {
		p.HasPrev = f.Page > 1 || f.After != ""
		return p, nil
	}
	desc, cursor, reverse := f.direction()
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	// One range reads only its index (id and name, in name order), so that
	// the merge touches no table row until the page's winners are known;
	// a schedule filter needs the endpoint row, and joins it in each range.
	var arm string
	var armArgs []any // the dims value goes first
	if len(f.Exemptions) == 1 {
		arm = `SELECT x.endpoint_id AS id, x.name AS name FROM endpoint_exemptions x`
		if f.Schedule != nil {
			arm += ` JOIN endpoints e ON e.id = x.endpoint_id`
		}
		arm += ` WHERE x.dims = ? AND x.code = ?`
		armArgs = []any{nil, string(f.Exemptions[0])}
	} else {
		arm = `SELECT e.id AS id, e.name AS name FROM endpoints e WHERE e.dims = ?`
		armArgs = []any{nil}
	}
	if f.Schedule != nil {
		if *f.Schedule == 0 {
			arm += ` AND e.schedule_id IS NULL`
		} else {
			arm += ` AND e.schedule_id = ?`
			armArgs = append(armArgs, *f.Schedule)
		}
	}
	if cursor != "" {
		arm += ` AND ` + f.nameColumn() + ` ` + op + ` ?`
		armArgs = append(armArgs, cursor)
	}
	arms := make([]string, len(ranges))
	var args []any
	for i, d := range ranges {
		arms[i] = arm
		armArgs[0] = d
		args = append(args, armArgs...)
	}
	q := `SELECT ` + rowColumns + `, ` + drivesColumn(withDrives) + ` FROM (` + strings.Join(arms, "\nUNION ALL ") + ` ORDER BY 2 ` + dir + ` LIMIT ?) m
		JOIN endpoints e ON e.id = m.id ORDER BY m.name COLLATE NOCASE ` + dir
	args = append(args, f.PerPage+1)
	return db.readPage(ctx, f, reverse, names, q, args...)
}
