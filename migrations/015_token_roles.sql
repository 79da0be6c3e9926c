-- API tokens get a role, checked on every call: viewer (reads), reporter
-- (reads and reports facts: agents and syncs), operator (also actions and
-- schedules), admin (also webhooks). Tokens made before roles keep every
-- power they had.
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
