-- Timestamps are Unix seconds (UTC). Booleans are 0/1; NULL is "unknown".

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
	password_hash TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
	disabled      INTEGER NOT NULL DEFAULT 0,
	columns       TEXT, -- Table Settings of the Servers list; NULL = defaults
	created_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	token_hash   BLOB NOT NULL UNIQUE, -- SHA-256 of the token; the token itself is shown once
	created_by   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
);

CREATE TABLE schedules (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	-- windows that ended up to this time have already used up suspension cycles
	cycles_counted_until INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
);

CREATE TABLE schedule_entries (
	id            INTEGER PRIMARY KEY,
	schedule_id   INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
	starts_at     INTEGER NOT NULL,
	ends_at       INTEGER NOT NULL,
	repeat_weekly INTEGER NOT NULL DEFAULT 0,
	repeat_until  INTEGER,
	CHECK (ends_at > starts_at),
	CHECK (repeat_weekly = 0 OR repeat_until >= starts_at)
);
CREATE INDEX schedule_entries_schedule ON schedule_entries(schedule_id);

CREATE TABLE endpoints (
	id                    INTEGER PRIMARY KEY,
	name                  TEXT NOT NULL UNIQUE COLLATE NOCASE,
	ip                    TEXT,
	os_family             TEXT,
	os_name               TEXT,
	platform_supported    INTEGER,
	managed               INTEGER,
	protocol              TEXT,
	credentials           TEXT,
	connector             TEXT,
	reachable             INTEGER,
	connection            TEXT,
	last_contact_at       INTEGER,
	power                 TEXT,
	vm_frozen             INTEGER,
	ps_execution_policy   TEXT,
	ps_version            INTEGER,
	advisories_present    INTEGER,
	packages_present      INTEGER,
	repositories_ok       INTEGER,
	subscription_valid    INTEGER,
	wsus_last_report_at   INTEGER,
	reboot_required_since INTEGER,
	last_window_timed_out INTEGER,
	-- state the dashboard owns
	schedule_id           INTEGER REFERENCES schedules(id) ON DELETE SET NULL,
	-- derived by the readiness rules, rewritten on every change
	primary_code          TEXT,
	more_count            INTEGER NOT NULL DEFAULT 0,
	impact                INTEGER NOT NULL DEFAULT 0, -- 0 patchable, 1 temporarily cannot, 2 cannot
	max_disk_pct          REAL,
	low_disk              INTEGER NOT NULL DEFAULT 0,
	recheck_at            INTEGER, -- next time a clock threshold may change the result
	facts_updated_at      INTEGER NOT NULL,
	created_at            INTEGER NOT NULL
);
-- Every sortable or filterable column is indexed together with the name, so
-- a filtered page sorted by name (and keyset pagination) reads the index in order.
CREATE INDEX endpoints_impact ON endpoints(impact, name);
CREATE INDEX endpoints_primary ON endpoints(primary_code, name);
CREATE INDEX endpoints_disk ON endpoints(max_disk_pct, name);
CREATE INDEX endpoints_low_disk ON endpoints(name) WHERE low_disk = 1;
CREATE INDEX endpoints_os ON endpoints(os_family, name);
CREATE INDEX endpoints_protocol ON endpoints(protocol, name);
CREATE INDEX endpoints_schedule ON endpoints(schedule_id, name);
CREATE INDEX endpoints_last_contact ON endpoints(last_contact_at, name);
CREATE INDEX endpoints_recheck ON endpoints(recheck_at) WHERE recheck_at IS NOT NULL;

CREATE TABLE drives (
	endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
	mount       TEXT NOT NULL,
	total_bytes INTEGER NOT NULL CHECK (total_bytes >= 0),
	used_bytes  INTEGER NOT NULL CHECK (used_bytes >= 0 AND used_bytes <= total_bytes),
	PRIMARY KEY (endpoint_id, mount)
) WITHOUT ROWID;

-- The derived exemptions carry a copy of the endpoint's name so that the
-- primary key serves "filter by exemption, sorted by name" straight from the index.
CREATE TABLE endpoint_exemptions (
	code        TEXT NOT NULL,
	name        TEXT NOT NULL COLLATE NOCASE,
	endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	since       INTEGER NOT NULL,
	evidence    TEXT NOT NULL,
	PRIMARY KEY (code, name, endpoint_id)
) WITHOUT ROWID;
CREATE INDEX endpoint_exemptions_endpoint ON endpoint_exemptions(endpoint_id);

-- Exemptions that have cleared, for the endpoint's history.
CREATE TABLE exemption_history (
	id          INTEGER PRIMARY KEY,
	endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
	code        TEXT NOT NULL,
	started_at  INTEGER NOT NULL,
	ended_at    INTEGER NOT NULL
);
CREATE INDEX exemption_history_endpoint ON exemption_history(endpoint_id, ended_at);

CREATE TABLE suspensions (
	endpoint_id      INTEGER PRIMARY KEY REFERENCES endpoints(id) ON DELETE CASCADE,
	cycles_remaining INTEGER CHECK (cycles_remaining >= 0),
	from_at          INTEGER,
	until_at         INTEGER,
	reason           TEXT NOT NULL,
	created_by       TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	CHECK (cycles_remaining IS NOT NULL OR (from_at IS NOT NULL AND until_at > from_at))
);

CREATE TABLE reboot_acknowledgements (
	endpoint_id INTEGER PRIMARY KEY REFERENCES endpoints(id) ON DELETE CASCADE,
	acked_at    INTEGER NOT NULL,
	acked_by    TEXT NOT NULL
);

-- Exact counts for totals and filter options, kept on every write. code ''
-- counts endpoints; any other code counts endpoints having that exemption.
CREATE TABLE facet_counts (
	code        TEXT NOT NULL,
	impact      INTEGER NOT NULL,
	os          TEXT NOT NULL,
	protocol    TEXT NOT NULL,
	schedule_id INTEGER NOT NULL,
	low_disk    INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (code, impact, os, protocol, schedule_id, low_disk)
) WITHOUT ROWID;

CREATE TABLE audit_log (
	id      INTEGER PRIMARY KEY,
	at      INTEGER NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	summary TEXT NOT NULL,
	targets INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE audit_targets (
	audit_id      INTEGER NOT NULL REFERENCES audit_log(id) ON DELETE CASCADE,
	endpoint_id   INTEGER NOT NULL,
	endpoint_name TEXT NOT NULL,
	before        TEXT NOT NULL,
	after         TEXT NOT NULL,
	PRIMARY KEY (audit_id, endpoint_id)
) WITHOUT ROWID;
CREATE INDEX audit_targets_endpoint ON audit_targets(endpoint_id);
