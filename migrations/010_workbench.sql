-- The Servers list as a workbench: saved views, a time zone per user, and
-- what an action changed kept so that it can be undone.

CREATE TABLE saved_views (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	query      TEXT NOT NULL, -- the list's query string: filters, sort, columns
	shared     INTEGER NOT NULL DEFAULT 0,
	owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX saved_views_owner_name ON saved_views(owner_id, name COLLATE NOCASE);

-- An IANA zone; '' until the user's browser tells us on first sign-in.
ALTER TABLE users ADD COLUMN timezone TEXT NOT NULL DEFAULT '';

-- The filter an "all matching" action used, as the list's query string;
-- and, once undone, the entry that undid it.
ALTER TABLE audit_log ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN undone_by INTEGER REFERENCES audit_log(id);

-- The part of the endpoint an action set (suspension, reboot
-- acknowledgement, schedule, labels) before and after, as JSON, so that
-- Undo puts back exactly what the action changed.
ALTER TABLE audit_targets ADD COLUMN part TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_targets ADD COLUMN state_before TEXT;
ALTER TABLE audit_targets ADD COLUMN state_after TEXT;
