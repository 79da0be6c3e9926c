package store

import (
	"context"
	"database/sql"
	"time"
)

// AuditEntry is one recorded action: who did what, when, to which endpoints.
type AuditEntry struct {
	ID      int64
	At      time.Time
	Actor   string
	Action  string
	Summary string
	Targets int
	Scope   string // the filter of an "all matching" action, as the list's query
	// Undoable: the entry changed what Undo can put back, and was not
	// undone yet (UndoneBy is the entry that undid it).
	Undoable bool
	UndoneBy int64
	Changes  []AuditChange // filled for one entry, not in lists
}

// AuditChange is the before and after of one endpoint touched by an action.
type AuditChange struct {
	EndpointID   int64
	EndpointName string
	Before       string
	After        string

	// What Undo needs: the part the action set, before and after (see parts).
	Part                    string
	StateBefore, StateAfter sql.NullString
}

// audit records an action in the same transaction as the change it describes.
func (t *txn) audit(actor, action, summary string, changes []AuditChange) error {
	_, err := t.auditEntry(actor, action, summary, "", changes)
	return err
}

// auditEntry records an action and returns its id; scope is the filter an
// "all matching" action used.
func (t *txn) auditEntry(actor, action, summary, scope string, changes []AuditChange) (int64, error) {
	var id int64
	if err := t.QueryRow(`INSERT INTO audit_log (at, actor, action, summary, targets, scope) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.now.Unix(), actor, action, summary, len(changes), scope).Scan(&id); err != nil {
		return 0, err
	}
	if len(changes) == 0 {
		return id, nil
	}
	stmt, err := t.Prepare(`INSERT INTO audit_targets (audit_id, endpoint_id, endpoint_name, before, after, part, state_before, state_after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	for _, c := range changes {
		if _, err := stmt.Exec(id, c.EndpointID, c.EndpointName, c.Before, c.After, c.Part, c.StateBefore, c.StateAfter); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	Actor    string
	Action   string
	Endpoint string // endpoint name, exact (any case)
	Before   int64  // id: entries older than this (keyset paging); 0 = newest
	Limit    int
}

// Audit lists entries, newest first.
func (db *DB) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT id, at, actor, action, summary, targets, scope, coalesce(undone_by, 0),
		EXISTS (SELECT 1 FROM audit_targets t WHERE t.audit_id = a.id AND t.part != '') FROM audit_log a WHERE 1=1`
	var args []any
	if f.Actor != "" {
		q += ` AND actor = ? COLLATE NOCASE`
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Endpoint != "" {
		q += ` AND EXISTS (SELECT 1 FROM audit_targets t WHERE t.audit_id = a.id AND t.endpoint_name = ? COLLATE NOCASE)`
		args = append(args, f.Endpoint)
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Summary, &e.Targets, &e.Scope, &e.UndoneBy, &e.Undoable); err != nil {
			return nil, err
		}
		e.Undoable = e.Undoable && e.UndoneBy == 0
		e.At = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditChanges lists the per-endpoint changes of one entry (at most limit).
func (db *DB) AuditChanges(ctx context.Context, id int64, limit int) ([]AuditChange, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT endpoint_id, endpoint_name, before, after FROM audit_targets
		WHERE audit_id = ? ORDER BY endpoint_name LIMIT ?`, id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditChange
	for rows.Next() {
		var c AuditChange
		if err := rows.Scan(&c.EndpointID, &c.EndpointName, &c.Before, &c.After); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// queryer is what both the pools and transactions can run reads on.
type queryer interface {
	Query(query string, args ...any) (*sql.Rows, error)
}

// EndpointAudit lists the newest entries that changed one endpoint, each
// with that endpoint's change as its only Changes element.
func (db *DB) EndpointAudit(ctx context.Context, endpointID int64, limit int) ([]AuditEntry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT a.id, a.at, a.actor, a.action, a.summary, a.targets, t.endpoint_name, t.before, t.after
		FROM audit_targets t JOIN audit_log a ON a.id = t.audit_id WHERE t.endpoint_id = ? ORDER BY a.id DESC LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		c := AuditChange{EndpointID: endpointID}
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Summary, &e.Targets, &c.EndpointName, &c.Before, &c.After); err != nil {
			return nil, err
		}
		e.At, e.Changes = time.Unix(at, 0).UTC(), []AuditChange{c}
		out = append(out, e)
	}
	return out, rows.Err()
}
