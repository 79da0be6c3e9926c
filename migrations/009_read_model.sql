-- The Servers list is answered from memory now (store/readmodel): filters,
-- counts, search and every sort order. What served it from SQLite goes: the
-- search index and its triggers, the packed dims and their indexes, the
-- impact-pair and per-column indexes, the counter table, and the copy of
-- the endpoint's name in the exemption rows.
DROP TRIGGER endpoint_search_insert;
DROP TRIGGER endpoint_search_delete;
DROP TRIGGER endpoint_search_update;
DROP TABLE endpoint_search;

DROP INDEX endpoints_dims;
ALTER TABLE endpoints DROP COLUMN dims;
DROP INDEX endpoints_os_impact;
DROP INDEX endpoints_protocol_impact;
DROP INDEX endpoints_schedule_impact;
DROP INDEX endpoints_low_disk_impact;
DROP INDEX endpoints_impact;
DROP INDEX endpoints_primary;
DROP INDEX endpoints_disk;
DROP INDEX endpoints_low_disk;
DROP INDEX endpoints_os;
DROP INDEX endpoints_protocol;
DROP INDEX endpoints_last_contact;
DROP INDEX endpoints_schedule;
-- Deleting a schedule finds its endpoints by this one.
CREATE INDEX endpoints_schedule ON endpoints(schedule_id) WHERE schedule_id IS NOT NULL;

DROP TABLE facet_counts;
DELETE FROM settings WHERE key = 'counts_version';

CREATE TABLE endpoint_exemptions_new (
	endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
	code        TEXT NOT NULL,
	position    INTEGER NOT NULL,
	since       INTEGER NOT NULL,
	evidence    TEXT NOT NULL,
	PRIMARY KEY (endpoint_id, code)
) WITHOUT ROWID;
INSERT INTO endpoint_exemptions_new (endpoint_id, code, position, since, evidence)
	SELECT endpoint_id, code, position, since, evidence FROM endpoint_exemptions;
DROP TABLE endpoint_exemptions;
ALTER TABLE endpoint_exemptions_new RENAME TO endpoint_exemptions;

-- Labels: the sources' (a fact, replaced by every report) and the
-- operators' (kept apart, so that no source wipes them). JSON arrays of
-- normalised labels, sorted; NULL for none.
ALTER TABLE endpoints ADD COLUMN labels TEXT;
ALTER TABLE endpoints ADD COLUMN manual_labels TEXT;

-- Every committed change bumps this number, so that a server notices a
-- change made by another process (patchready seed) and rebuilds its read
-- model.
INSERT OR REPLACE INTO settings (key, value) VALUES ('data_version', '1');
