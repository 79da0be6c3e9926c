-- History and notifications.

-- Counts by impact, exemption and warning, one row an hour (a few hundred
-- bytes), kept a little over 400 days.
CREATE TABLE history (
	at     INTEGER PRIMARY KEY, -- unix time of the record
	counts TEXT NOT NULL,       -- {"total", "impact": {…}, "exemptions": {…}, "warnings": {…}}
	demo   INTEGER NOT NULL DEFAULT 0 -- made up by the demo so that the chart is never empty
);

CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY,
	url        TEXT NOT NULL,
	events     TEXT NOT NULL, -- comma list: impact-changed, window-digest
	secret     TEXT NOT NULL, -- the HMAC key; it must be kept to sign
	format     TEXT NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- Impact changes wait here, written in the transaction that made them,
-- until the dispatcher gathers them into deliveries (at most 1000 each).
CREATE TABLE webhook_changes (
	id       INTEGER PRIMARY KEY,
	at       INTEGER NOT NULL,
	name     TEXT NOT NULL,
	from_imp TEXT NOT NULL,
	to_imp   TEXT NOT NULL,
	primary_code TEXT NOT NULL DEFAULT ''
);

-- Deliveries, sent from here so that a restart loses none; kept a week
-- after they end for the hook's log.
CREATE TABLE webhook_deliveries (
	id         INTEGER PRIMARY KEY,
	hook_id    INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	uid        TEXT NOT NULL,      -- X-Patchready-Delivery
	event      TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	next_at    INTEGER,            -- NULL once delivered or given up
	attempts   INTEGER NOT NULL DEFAULT 0,
	status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
	last_code  INTEGER,            -- the receiver's last HTTP status
	last_error TEXT NOT NULL DEFAULT '',
	last_at    INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE next_at IS NOT NULL;
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(hook_id, id);

-- Windows whose digest was sent, so that each is sent once.
CREATE TABLE window_digests (
	schedule_id  INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	PRIMARY KEY (schedule_id, window_start)
) WITHOUT ROWID;

INSERT INTO settings (key, value) VALUES ('digest_lead_hours', '24') ON CONFLICT DO NOTHING;
