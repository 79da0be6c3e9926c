package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Token is an API token; only the SHA-256 of its secret is stored. A hash
// without salt is enough here: the secret is 32 random bytes, not a password.
type Token struct {
	ID         int64
	Name       string
	Role       Role
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

const tokenPrefix = "prt_"

// CreateToken makes a new admin token (every power) and returns its
// secret, which is never shown again. See CreateTokenWithRole.
func (db *DB) CreateToken(ctx context.Context, actor, name string) (string, error) {
	return db.CreateTokenWithRole(ctx, actor, name, Admin)
}

// CreateTokenWithRole makes a new token of a role and returns its secret.
func (db *DB) CreateTokenWithRole(ctx context.Context, actor, name string, role Role) (string, error) {
	name = strings.TrimSpace(name)
	if !slices.Contains(TokenRoles, role) {
		return "", &Error{Kind: Invalid, Message: "A token's role is viewer, reporter, operator or admin.", Details: []FieldError{{Field: "role", Message: "Choose viewer, reporter, operator or admin."}}}
	}
	if !userName.MatchString(name) {
		return "", &Error{Kind: Invalid, Message: "a token name is 1 to 64 letters, digits or . _ @ -", Details: []FieldError{{Field: "name", Message: "A token name is 1 to 64 letters, digits or . _ @ -."}}}
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(secret))
	err := db.update(ctx, func(t *txn) error {
		if _, err := t.Exec(`INSERT INTO api_tokens (name, token_hash, created_by, created_at, role) VALUES (?, ?, ?, ?, ?)`,
			name, sum[:], actor, t.now.Unix(), role); err != nil {
			return uniqueName(err, "token", name)
		}
		return t.audit(actor, "token.create", "created API token "+name+" ("+string(role)+")", nil)
	})
	return secret, err
}

// TokenBySecret finds the live token with this secret and records its use.
func (db *DB) TokenBySecret(ctx context.Context, secret string) (*Token, error) {
	sum := sha256.Sum256([]byte(secret))
	tk := &Token{}
	var used *int64
	err := db.queryRow(ctx, `SELECT id, name, role, created_by, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`, sum[:]).
		Scan(&tk.ID, &tk.Name, &tk.Role, &tk.CreatedBy, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(NotFound, "unknown or revoked token")
	} else if err != nil {
		return nil, err
	}
	// Use is recorded in the background, at most once a minute: a busy
	// connector should not turn every read into a write.
	if now := db.now().Unix(); used == nil || now-*used >= 60 {
		db.usage.touchToken(tk.ID, now)
	}
	return tk, nil
}

// Tokens lists every token, revoked ones included.
func (db *DB) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, role, created_by, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY revoked_at IS NOT NULL, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created int64
		var used, revoked *int64
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &t.CreatedBy, &created, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = time.Unix(created, 0).UTC(), fromUnix(used), fromUnix(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken stops a token from working.
func (db *DB) RevokeToken(ctx context.Context, actor string, id int64) error {
	return db.update(ctx, func(t *txn) error {
		var name string
		err := t.QueryRow(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING name`, t.now.Unix(), id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return errorf(NotFound, "token %d does not exist or is already revoked", id)
		} else if err != nil {
			return err
		}
		return t.audit(actor, "token.revoke", fmt.Sprintf("revoked API token %s", name), nil)
	})
}
