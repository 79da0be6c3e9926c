-- A copy of each endpoint's drives in its own row, so a page of the Servers
-- list reads its Disk Space In Use pop-ups without a second query. Drives
-- are packed as mount, total and used bytes separated by unit separators
-- (0x1f), one drive after another separated by record separators (0x1e);
-- mount names cannot contain control characters. The drives table stays the
-- record the rules read.
ALTER TABLE endpoints ADD COLUMN drives_packed TEXT;
UPDATE endpoints SET drives_packed = (
	SELECT group_concat(d.mount || char(31) || d.total_bytes || char(31) || d.used_bytes, char(30))
	FROM (SELECT * FROM drives WHERE endpoint_id = endpoints.id ORDER BY mount) d);
