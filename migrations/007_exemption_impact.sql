-- One exemption with an impact, and nothing else, reads one index range in
-- name order again (as migration 004's index did): the impact is the
-- remainder of dims by 3. Merging the up to 24 ranges of migration 006 for
-- it made it the slowest page of the list (0.75 ms at 100K).
CREATE INDEX endpoint_exemptions_impact ON endpoint_exemptions(code, dims % 3, name);
