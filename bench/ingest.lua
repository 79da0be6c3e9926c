-- wrk script: PUT 1000 endpoints per request; every request moves their
-- last contact time, so each one is a real update and re-evaluation.
local n = 0
local token = os.getenv("BENCH_TOKEN")

request = function()
  n = n + 1
  local items = {}
  local stamp = string.format("2026-11-24T%02d:%02d:%02dZ", math.floor(n / 3600) % 24, math.floor(n / 60) % 60, n % 60)
  for i = 0, 999 do
    items[#items + 1] = string.format(
      '{"name":"ingest-%04d","os_family":"linux","managed":true,"platform_supported":true,"protocol":"web",' ..
      '"credentials":"valid","connector":"running","reachable":true,"connection":"ok","power":"on",' ..
      '"last_contact_at":"%s","drives":[{"mount":"/","total_bytes":100000000000,"used_bytes":%d}]}',
      i, stamp, 40000000000 + n)
  end
  return wrk.format("PUT", "/api/v1/endpoints",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" },
    "[" .. table.concat(items, ",") .. "]")
end
