package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"math/rand/v2"
	"time"
)

// Counts is the estate at one moment: how many endpoints of each impact,
// with each exemption and each warning.
type Counts struct {
	Total      int64            `json:"total"`
	Impact     map[string]int64 `json:"impact"`
	Exemptions map[string]int64 `json:"exemptions"`
	Warnings   map[string]int64 `json:"warnings"`
}

// HistoryDay is the last record of one UTC day.
type HistoryDay struct {
	Date string `json:"date"` // YYYY-MM-DD
	Counts
	Demo bool `json:"demo,omitempty"` // made up by the demo
}

const (
	historyEvery = time.Hour
	// HistoryKeep is how long records are kept: a little over 400 days,
	// so that a 400-day chart always has its first day.
	HistoryKeep = 410 * 24 * time.Hour
	// MaxHistoryDays is the longest span the API gives.
	MaxHistoryDays = 400
)

// countsNow reads the estate's counts from the read model: a handful of
// bitmap cardinalities, never a scan of the endpoints.
func (db *DB) countsNow(ctx context.Context) (Counts, error) {
	fc, err := db.Facets(ctx, Filter{})
	if err != nil {
		return Counts{}, err
	}
	c := Counts{Total: fc.Total, Impact: map[string]int64{}, Exemptions: map[string]int64{}, Warnings: map[string]int64{}}
	for _, i := range Impacts {
		c.Impact[i.String()] = fc.Count(DimImpact, i.String())
	}
	for v, n := range fc.Counts[DimExemption] {
		c.Exemptions[v] = n
	}
	for _, w := range Warnings {
		c.Warnings[string(w.Code)] = fc.Count(DimWarning, string(w.Code))
	}
	return c, nil
}

// RecordHistory records the estate's counts when the last record is an
// hour old or more, and forgets records past HistoryKeep. It reports
// whether it recorded.
func (db *DB) RecordHistory(ctx context.Context) (bool, error) {
	now := db.now()
	var last sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT max(at) FROM history WHERE demo = 0`).Scan(&last); err != nil {
		return false, err
	}
	if last.Valid && now.Sub(time.Unix(last.Int64, 0)) < historyEvery {
		return false, nil
	}
	c, err := db.countsNow(ctx)
	if err != nil {
		return false, err
	}
	b, _ := json.Marshal(c)
	err = db.update(ctx, func(t *txn) error {
		if _, err := t.Exec(`INSERT OR REPLACE INTO history (at, counts) VALUES (?, ?)`, now.Unix(), string(b)); err != nil {
			return err
		}
		_, err := t.Exec(`DELETE FROM history WHERE at < ?`, now.Add(-HistoryKeep).Unix())
		return err
	})
	return err == nil, err
}

// EstateHistory returns the last record of each UTC day of the last days days
// (today included), oldest first. Days without a record are left out.
func (db *DB) EstateHistory(ctx context.Context, days int) ([]HistoryDay, error) {
	if days < 1 || days > MaxHistoryDays {
		return nil, errorf(Invalid, "days is from 1 to %d", MaxHistoryDays)
	}
	now := db.now().UTC()
	from := time.Date(now.Year(), now.Month(), now.Day()-days+1, 0, 0, 0, 0, time.UTC)
	rows, err := db.r.QueryContext(ctx, `SELECT at, counts, demo FROM history WHERE at >= ? ORDER BY at`, from.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HistoryDay
	for rows.Next() {
		var at int64
		var counts string
		var d HistoryDay
		if err := rows.Scan(&at, &counts, &d.Demo); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(counts), &d.Counts); err != nil {
			return nil, err
		}
		d.Date = time.Unix(at, 0).UTC().Format("2006-01-02")
		if n := len(out); n > 0 && out[n-1].Date == d.Date {
			out[n-1] = d // the day's last record wins
		} else {
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// SeedHistory makes up days of plausible history ending at the estate as
// it is now (more endpoints blocked further back, a little noise), marked
// as the demo's, when there is none yet. The chart says so.
func (db *DB) SeedHistory(ctx context.Context, days int) error {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM history`).Scan(&n); err != nil || n > 0 {
		return err
	}
	now, err := db.countsNow(ctx)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(7, uint64(days)))
	t0 := db.now().UTC().Truncate(24 * time.Hour)
	return db.update(ctx, func(t *txn) error {
		for d := days; d >= 1; d-- {
			// Further back, more was blocked: the estate got better.
			worse := 1 + 0.6*float64(d)/float64(days) + 0.05*(r.Float64()-0.5)
			scale := func(n int64) int64 { return int64(math.Round(float64(n) * worse)) }
			c := Counts{Total: now.Total, Impact: map[string]int64{}, Exemptions: map[string]int64{}, Warnings: map[string]int64{}}
			cannot, temp := scale(now.Impact["cannot-patch"]), scale(now.Impact["temporarily-cannot-patch"])
			if cannot+temp > now.Total {
				cannot, temp = now.Total/3, now.Total/3
			}
			c.Impact["cannot-patch"], c.Impact["temporarily-cannot-patch"], c.Impact["patchable"] = cannot, temp, now.Total-cannot-temp
			for k, v := range now.Exemptions {
				c.Exemptions[k] = min(scale(v), now.Total)
			}
			for k, v := range now.Warnings {
				c.Warnings[k] = min(scale(v), now.Total)
			}
			b, _ := json.Marshal(c)
			at := t0.Add(-time.Duration(d)*24*time.Hour + 23*time.Hour)
			if _, err := t.Exec(`INSERT OR IGNORE INTO history (at, counts, demo) VALUES (?, ?, 1)`, at.Unix(), string(b)); err != nil {
				return err
			}
		}
		return nil
	})
}
