-- GET /api/v1/handovers/{id}/file as the receiving municipality's staff.
-- Lines of the input file: "<handover id> <bearer token>".
local pairs_ = {}
function init(args)
  for line in io.lines(args[1]) do
    local id, tok = line:match("^(%S+)%s+(%S+)$")
    if id then pairs_[#pairs_ + 1] = { id, tok } end
  end
  math.randomseed(os.time())
end
function request()
  local p = pairs_[math.random(#pairs_)]
  return wrk.format("GET", "/api/v1/handovers/" .. p[1] .. "/file", { ["Authorization"] = "Bearer " .. p[2] })
end
