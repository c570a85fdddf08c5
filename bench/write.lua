-- PATCH a programme element with If-Match, as centre staff.
-- Lines: "<participant> <element> <current version> <token>".
-- Elements are taken round-robin, so with thousands of them no element is in flight twice; each
-- answer's body gives the element's new version for its next If-Match. The value alternates, so
-- every PATCH really writes.
local rows, version = {}, {}
local n = 0
function init(args)
  for line in io.lines(args[1]) do
    local p, e, v, tok = line:match("^(%S+)%s+(%S+)%s+(%d+)%s+(%S+)$")
    if p then
      rows[#rows + 1] = { p, e, tok }
      version[e] = tonumber(v)
    end
  end
end
function request()
  n = n + 1
  local r = rows[(n % #rows) + 1]
  local v = version[r[2]] or 1
  local body = string.format('{"hours_attended": %d}', 200 + (v % 2) * 10)
  return wrk.format("PATCH", "/api/v1/participants/" .. r[1] .. "/programme-elements/" .. r[2],
    { ["Authorization"] = "Bearer " .. r[3], ["Content-Type"] = "application/json", ["If-Match"] = '"' .. v .. '"' }, body)
end
function response(status, headers, body)
  if status == 200 then
    local id = body:match('"id":"([%x%-]+)"')
    local v = body:match('"version":(%d+)')
    if id and v then version[id] = tonumber(v) end
  end
end
