package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
)

// Session is a signed-in browser. Its secret lives only in the cookie; the
// database keeps the secret's SHA-256, so neither a copy of the database nor
// the cookie key alone yields a session.
type Session struct {
	UserID    int64
	CreatedAt time.Time
	SeenAt    time.Time
}

func sessionHash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// CreateSession starts a session for a user and returns its secret. Expired
// sessions (seen before idleBefore or created before oldBefore) are removed
// on the way, so the table holds only live ones.
func (db *DB) CreateSession(ctx context.Context, userID int64, now, idleBefore, oldBefore time.Time) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM sessions WHERE seen_at < ? OR created_at < ?`, idleBefore.Unix(), oldBefore.Unix()); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO sessions (id_hash, user_id, created_at, seen_at) VALUES (?, ?, ?, ?)`,
			sessionHash(secret), userID, now.Unix(), now.Unix())
		return err
	})
	return secret, err
}

// SessionUser returns the user of a live session and the session itself;
// NotFound when the session was ended (or never existed). The last-seen
// time includes uses not yet written (see usage.go).
func (db *DB) SessionUser(ctx context.Context, secret string) (*User, Session, error) {
	h := sessionHash(secret)
	var s Session
	var created, seen int64
	err := db.queryRow(ctx, `SELECT user_id, created_at, seen_at FROM sessions WHERE id_hash = ?`, h).Scan(&s.UserID, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s, errorf(NotFound, "no such session")
	} else if err != nil {
		return nil, s, err
	}
	if pending := db.usage.sessionSeen(string(h)); pending > seen {
		seen = pending
	}
	s.CreatedAt, s.SeenAt = time.Unix(created, 0).UTC(), time.Unix(seen, 0).UTC()
	u, err := db.User(ctx, s.UserID)
	return u, s, err
}

// TouchSession records that a session was used at now, off the request
// path: the write happens in the background within seconds.
func (db *DB) TouchSession(secret string, now time.Time) {
	db.usage.touchSession(string(sessionHash(secret)), now.Unix())
}

// EndSession signs a session out.
func (db *DB) EndSession(ctx context.Context, secret string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM sessions WHERE id_hash = ?`, sessionHash(secret))
		return err
	})
}

// EndUserSessions signs a user out everywhere.
func (db *DB) EndUserSessions(ctx context.Context, userID int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
}
