-- Facts from several sources: who reported each fact and when, the
-- sources themselves, and the stale-facts warning.

CREATE TABLE sources (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL UNIQUE, -- a token's name, or import:<user>
	first_report_at INTEGER NOT NULL,
	last_report_at  INTEGER NOT NULL,
	reports         INTEGER NOT NULL DEFAULT 0, -- endpoints reported, counted per item
	endpoints       INTEGER NOT NULL DEFAULT 0  -- endpoints with at least one fact from it, kept on every write
);

-- Who said what: a JSON array of [source id, unix time, field mask], one
-- element per source and report time; the mask's bits are the facts in
-- store.FactFields order. A fact reported again moves to its new report.
ALTER TABLE endpoints ADD COLUMN fact_sources TEXT;
-- The last report of any fact, changed or not; and the warning it raises
-- when older than the stale threshold.
ALTER TABLE endpoints ADD COLUMN reported_at INTEGER;
ALTER TABLE endpoints ADD COLUMN stale_facts INTEGER NOT NULL DEFAULT 0;
UPDATE endpoints SET reported_at = facts_updated_at;

INSERT INTO settings (key, value) VALUES ('stale_after_hours', '24') ON CONFLICT DO NOTHING;
