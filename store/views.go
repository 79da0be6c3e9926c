package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// SavedView is a named query of the Servers list (filters, sort, columns)
// that its owner keeps private or shares with everyone.
type SavedView struct {
	ID        int64
	Name      string
	Query     string // the list's query string
	Shared    bool
	OwnerID   int64
	Owner     string
	CreatedAt time.Time
}

// MaxViewsPerUser bounds what one user keeps.
const MaxViewsPerUser = 100

// SavedViews lists the views a user sees: their own and the shared ones.
func (db *DB) SavedViews(ctx context.Context, userID int64) ([]SavedView, error) {
	rows, err := db.query(ctx, `SELECT v.id, v.name, v.query, v.shared, v.owner_id, u.name, v.created_at
		FROM saved_views v JOIN users u ON u.id = v.owner_id WHERE v.owner_id = ? OR v.shared ORDER BY v.name COLLATE NOCASE, v.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SavedView
	for rows.Next() {
		var v SavedView
		var created int64
		if err := rows.Scan(&v.ID, &v.Name, &v.Query, &v.Shared, &v.OwnerID, &v.Owner, &created); err != nil {
			return nil, err
		}
		v.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// SavedView is one view the user may see.
func (db *DB) SavedView(ctx context.Context, userID, id int64) (*SavedView, error) {
	views, err := db.SavedViews(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		if v.ID == id {
			return &v, nil
		}
	}
	return nil, errorf(NotFound, "saved view %d does not exist or is not shared with you", id)
}

// CreateView saves a view for a user. Only operators and admins share.
// The query is the list's, already checked by the caller.
func (db *DB) CreateView(ctx context.Context, u *User, name, query string, shared bool) (SavedView, error) {
	name = strings.TrimSpace(name)
	var d []FieldError
	switch {
	case name == "":
		d = append(d, FieldError{Field: "name", Message: "Give the view a name."})
	case utf8.RuneCountInString(name) > 80 || hiddenChars(name):
		d = append(d, FieldError{Field: "name", Message: "A view's name is at most 80 visible characters."})
	}
	if shared && !u.Role.Allows(Operator) {
		d = append(d, FieldError{Field: "shared", Message: "Only operators and admins share views; keep it private."})
	}
	if len(query) > 4096 {
		d = append(d, FieldError{Field: "query", Message: "The query is longer than 4,096 characters."})
	}
	if len(d) > 0 {
		return SavedView{}, &Error{Kind: Invalid, Message: d[0].Message, Details: d}
	}
	v := SavedView{Name: name, Query: query, Shared: shared, OwnerID: u.ID, Owner: u.Name}
	err := db.update(ctx, func(t *txn) error {
		v.CreatedAt = t.now.Truncate(time.Second)
		var n int
		if err := t.QueryRow(`SELECT count(*) FROM saved_views WHERE owner_id = ?`, u.ID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxViewsPerUser {
			return &Error{Kind: Invalid, Message: "You keep 100 views already; delete one first.", Details: []FieldError{{Field: "name", Message: "You keep 100 views already; delete one first."}}}
		}
		err := t.QueryRow(`INSERT INTO saved_views (name, query, shared, owner_id, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING RETURNING id`, name, query, shared, u.ID, t.now.Unix()).Scan(&v.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return &Error{Kind: Conflict, Message: "You already have a view named " + quote(name) + ".",
				Details: []FieldError{{Field: "name", Message: "You already have a view with this name."}}}
		}
		if err != nil {
			return err
		}
		what := "saved view " + quote(name)
		if shared {
			what = "saved shared view " + quote(name)
		}
		return t.audit(u.Name, "view.create", what+" ("+query+")", nil)
	})
	return v, err
}

// DeleteView removes a view: its owner may, and admins may remove any.
func (db *DB) DeleteView(ctx context.Context, u *User, id int64) error {
	return db.update(ctx, func(t *txn) error {
		var name string
		var owner int64
		err := t.QueryRow(`SELECT name, owner_id FROM saved_views WHERE id = ? AND (owner_id = ? OR shared)`, id, u.ID).Scan(&name, &owner)
		if errors.Is(err, sql.ErrNoRows) {
			return errorf(NotFound, "saved view %d does not exist or is not shared with you", id)
		}
		if err != nil {
			return err
		}
		if owner != u.ID && !u.Role.Allows(Admin) {
			return errorf(Forbidden, "only its owner or an admin may delete the view %s", quote(name))
		}
		if _, err := t.Exec(`DELETE FROM saved_views WHERE id = ?`, id); err != nil {
			return err
		}
		return t.audit(u.Name, "view.delete", "deleted saved view "+quote(name), nil)
	})
}

func quote(s string) string { return "“" + s + "”" }
