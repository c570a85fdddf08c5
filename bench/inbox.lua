-- GET /api/v1/handovers?limit=50: a municipality's inbox page. Lines: "<bearer token>".
local toks = {}
function init(args)
  for line in io.lines(args[1]) do if #line > 0 then toks[#toks + 1] = line end end
  math.randomseed(os.time())
end
function request()
  return wrk.format("GET", "/api/v1/handovers?limit=50", { ["Authorization"] = "Bearer " .. toks[math.random(#toks)] })
end
