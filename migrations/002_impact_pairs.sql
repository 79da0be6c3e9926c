-- Impact is the filter most often combined with another. A walk of the
-- (impact, name) index checking the other filter row by row is slow when
-- the matches sit together at the far end of the name order (all Windows
-- names after all Linux ones, say); these indexes keep every "impact and
-- one more filter" query an ordered walk over matching rows only.
CREATE INDEX endpoints_os_impact ON endpoints(os_family, impact, name);
CREATE INDEX endpoints_protocol_impact ON endpoints(protocol, impact, name);
CREATE INDEX endpoints_schedule_impact ON endpoints(schedule_id, impact, name);
CREATE INDEX endpoints_low_disk_impact ON endpoints(impact, name) WHERE low_disk = 1;

-- Statistics, so the planner knows the new indexes (sampled: cheap at any size).
PRAGMA analysis_limit = 1000;
ANALYZE;
