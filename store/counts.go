package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// countKey is one cell of the facet_counts table: every dimension the
// Servers list filters on except the free-text search.
type countKey struct {
	Code       Code // "" counts endpoints
	Impact     Impact
	OS         string
	Protocol   string
	ScheduleID int64
	LowDisk    bool
}

// counts is an in-memory copy of facet_counts at a version. Totals and
// filter-option counts are summed from it instead of counted in SQL.
type counts struct {
	version int64
	cells   map[countKey]int64
	list    []cell    // the same cells as a slice: summing reads every one, and a slice is several times faster to walk than a map
	checked time.Time // when the version was last compared with the database
	facets  *facetCache
}

// facetCache keeps the facets summed for recent filters at one version of
// the counts: a user paging through a filter asks for the same sums on
// every page, and summing walks every cell.
type facetCache struct {
	m sync.Map // filter key → Facets
	n atomic.Int32
}

// maxCachedFacets bounds a version's cache; filters past it are summed
// each time.
const maxCachedFacets = 1024

// cell is one counter cell and its count.
type cell struct {
	countKey
	n int64
}

func newCounts(version int64, cells map[countKey]int64, checked time.Time) *counts {
	return &counts{version: version, cells: cells, list: cellList(cells), checked: checked, facets: &facetCache{}}
}

func cellList(cells map[countKey]int64) []cell {
	list := make([]cell, 0, len(cells))
	for k, n := range cells {
		list = append(list, cell{k, n})
	}
	return list
}

// recheckCounts is how long the cached counts are trusted without asking
// the database for its version. Writes of this process update the cache at
// once; this only delays what another process (patchready seed) wrote.
const recheckCounts = 250 * time.Millisecond

// cellsOf returns the cells an endpoint with these derived values counts in.
func cellsOf(impact Impact, os, protocol string, scheduleID int64, lowDisk bool, codes []Code) []countKey {
	k := countKey{Impact: impact, OS: os, Protocol: protocol, ScheduleID: scheduleID, LowDisk: lowDisk}
	keys := make([]countKey, 0, len(codes)+1)
	keys = append(keys, k)
	for _, c := range codes {
		k.Code = c
		keys = append(keys, k)
	}
	return keys
}

// flushCounts adds the transaction's deltas to facet_counts and bumps the
// version, so that other processes notice and reload.
func flushCounts(tx *sql.Tx, delta map[countKey]int64) (int64, error) {
	stmt, err := tx.Prepare(`INSERT INTO facet_counts (code, impact, os, protocol, schedule_id, low_disk, n)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	for k, n := range delta {
		if n == 0 {
			continue
		}
		if _, err := stmt.Exec(string(k.Code), int(k.Impact), k.OS, k.Protocol, k.ScheduleID, k.LowDisk, n); err != nil {
			return 0, err
		}
	}
	if _, err := tx.Exec(`DELETE FROM facet_counts WHERE n = 0`); err != nil {
		return 0, err
	}
	return bumpCountsVersion(tx)
}

func bumpCountsVersion(tx *sql.Tx) (int64, error) {
	var v int64
	err := tx.QueryRow(`INSERT INTO settings (key, value) VALUES (?, '1')
		ON CONFLICT DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)`, keyCountsVersion).Scan(&v)
	return v, err
}

// applyCounts brings the cached counts up to version after a commit of ours;
// if the cache was not at the version before it, it is dropped and reloaded
// on the next read.
func (db *DB) applyCounts(version int64, delta map[countKey]int64) {
	db.mu.Lock()
	defer db.mu.Unlock()
	c := db.counts
	if c == nil || c.version != version-1 {
		db.counts = nil
		return
	}
	cells := make(map[countKey]int64, len(c.cells)+len(delta))
	for k, n := range c.cells {
		cells[k] = n
	}
	for k, n := range delta {
		if cells[k] += n; cells[k] == 0 {
			delete(cells, k)
		}
	}
	db.counts = newCounts(version, cells, c.checked)
}

// currentCounts returns the counts, reloading them when another process (or
// connection) has written since they were cached.
func (db *DB) currentCounts(ctx context.Context) (*counts, error) {
	db.mu.RLock()
	c := db.counts
	db.mu.RUnlock()
	if c != nil && time.Since(c.checked) < recheckCounts {
		return c, nil
	}
	var s string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, keyCountsVersion).Scan(&s)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	version, _ := strconv.ParseInt(s, 10, 64)
	if c != nil && c.version == version {
		db.mu.Lock()
		if db.counts == c {
			c = &counts{version: c.version, cells: c.cells, list: c.list, checked: time.Now(), facets: c.facets}
			db.counts = c
		}
		db.mu.Unlock()
		return c, nil
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// Read version and cells in one snapshot so they agree.
	if err := tx.QueryRow(`SELECT coalesce((SELECT value FROM settings WHERE key = ?), '0')`, keyCountsVersion).Scan(&s); err != nil {
		return nil, err
	}
	version, _ = strconv.ParseInt(s, 10, 64)
	rows, err := tx.Query(`SELECT code, impact, os, protocol, schedule_id, low_disk, n FROM facet_counts`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cells := map[countKey]int64{}
	for rows.Next() {
		var k countKey
		var n int64
		if err := rows.Scan(&k.Code, &k.Impact, &k.OS, &k.Protocol, &k.ScheduleID, &k.LowDisk, &n); err != nil {
			return nil, err
		}
		cells[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c = newCounts(version, cells, time.Now())
	db.mu.Lock()
	if db.counts == nil || db.counts.version < c.version {
		db.counts = c
	}
	db.mu.Unlock()
	return c, nil
}
