-- A copy of each endpoint's impact in its exemption rows, with an index on
-- (code, impact, name): the Servers list filtered by one exemption and an
-- impact then reads matches in name order instead of walking every endpoint
-- with the exemption and looking up its impact (at a million endpoints,
-- "Disconnected" and "cannot patch" met one match in six). The store writes
-- the copy in the same statement batch as the endpoint's own impact.
ALTER TABLE endpoint_exemptions ADD COLUMN impact INTEGER NOT NULL DEFAULT 0;
UPDATE endpoint_exemptions SET impact = (SELECT impact FROM endpoints WHERE id = endpoint_id);
CREATE INDEX endpoint_exemptions_impact ON endpoint_exemptions(code, impact, name);
ANALYZE endpoint_exemptions;
