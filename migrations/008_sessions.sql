-- Sessions live on the server so that they can be ended: the cookie holds a
-- random secret, and only its SHA-256 is stored here. Signing out, a
-- password change, disabling a user and a role change delete rows.
CREATE TABLE sessions (
	id_hash    BLOB PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
