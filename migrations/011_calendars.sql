-- Maintenance calendars: a schedule has a time zone; an entry is a local
-- start, a duration and an RFC 5545 recurrence rule. Existing schedules
-- were UTC and repeated weekly until a date: they become UTC schedules
-- whose entries say exactly that (FREQ=WEEKLY;UNTIL=…), so no window moves.
-- Suspension cycles are counted per suspension rather than per schedule.

ALTER TABLE schedules ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE schedule_entries_new (
	id               INTEGER PRIMARY KEY,
	schedule_id      INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
	starts_local     TEXT NOT NULL,    -- wall time in the schedule's zone: 2026-12-09T22:00:00
	duration_seconds INTEGER NOT NULL CHECK (duration_seconds > 0),
	rrule            TEXT NOT NULL DEFAULT '', -- '' = once
	created_at       INTEGER NOT NULL  -- windows that began before the entry existed use up no cycle
);
INSERT INTO schedule_entries_new (id, schedule_id, starts_local, duration_seconds, rrule, created_at)
	SELECT id, schedule_id, strftime('%Y-%m-%dT%H:%M:%S', starts_at, 'unixepoch'), ends_at - starts_at,
		CASE WHEN repeat_weekly THEN 'FREQ=WEEKLY;UNTIL=' || strftime('%Y%m%dT%H%M%S', repeat_until, 'unixepoch') ELSE '' END,
		0
	FROM schedule_entries;
DROP TABLE schedule_entries;
ALTER TABLE schedule_entries_new RENAME TO schedule_entries;
CREATE INDEX schedule_entries_schedule ON schedule_entries(schedule_id);

-- Windows ending up to counted_to have been counted against the suspension.
ALTER TABLE suspensions ADD COLUMN counted_to INTEGER;
UPDATE suspensions SET counted_to = max(created_at, coalesce(
	(SELECT s.cycles_counted_until FROM endpoints e JOIN schedules s ON s.id = e.schedule_id WHERE e.id = suspensions.endpoint_id), 0))
	WHERE cycles_remaining IS NOT NULL;
ALTER TABLE schedules DROP COLUMN cycles_counted_until;
