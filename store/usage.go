package store

import (
	"context"
	"sync"
	"time"
)

// usage collects "last used" times of API tokens and sessions and writes
// them in the background. Recording them inside the request made every
// read-only API call and page wait for the single writer, behind whatever
// long write (a 1000-item ingest, an import) held it.
type usage struct {
	mu       sync.Mutex
	tokens   map[int64]int64  // token id → unix time
	sessions map[string]int64 // session hash → unix time
	wake     chan struct{}
}

// maxPendingUsage bounds the memory held between two flushes; past it a
// use is dropped (the next use a minute later records it).
const maxPendingUsage = 10_000

func newUsage() *usage {
	return &usage{tokens: map[int64]int64{}, sessions: map[string]int64{}, wake: make(chan struct{}, 1)}
}

func (u *usage) touchToken(id, at int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.tokens) < maxPendingUsage || u.tokens[id] != 0 {
		u.tokens[id] = max(u.tokens[id], at)
	}
}

func (u *usage) touchSession(hash string, at int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.sessions) < maxPendingUsage || u.sessions[hash] != 0 {
		u.sessions[hash] = max(u.sessions[hash], at)
	}
}

func (u *usage) sessionSeen(hash string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sessions[hash]
}

// take empties the pending uses.
func (u *usage) take() (map[int64]int64, map[string]int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, s := u.tokens, u.sessions
	u.tokens, u.sessions = map[int64]int64{}, map[string]int64{}
	return t, s
}

// usageEvery is how often pending uses are written.
const usageEvery = 2 * time.Second

// recordUsage writes pending uses every usageEvery until ctx ends, and once more then.
func (db *DB) recordUsage(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(usageEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			db.FlushUsage(context.Background())
			return
		case <-t.C:
			db.FlushUsage(ctx)
		}
	}
}

// FlushUsage writes the pending uses now.
func (db *DB) FlushUsage(ctx context.Context) error {
	tokens, sessions := db.usage.take()
	if len(tokens) == 0 && len(sessions) == 0 {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for id, at := range tokens {
		if _, err := tx.Exec(`UPDATE api_tokens SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?`, at, id); err != nil {
			return err
		}
	}
	for h, at := range sessions {
		if _, err := tx.Exec(`UPDATE sessions SET seen_at = max(seen_at, ?) WHERE id_hash = ?`, at, []byte(h)); err != nil {
			return err
		}
	}
	return tx.Commit()
}
