-- GET a web page as a signed-in user. Lines: "<path> <cookie header value>".
local reqs = {}
function init(args)
  for line in io.lines(args[1]) do
    local path, cookie = line:match("^(%S+) (.+)$")
    if path then reqs[#reqs + 1] = { path, cookie } end
  end
  math.randomseed(os.time())
end
function request()
  local r = reqs[math.random(#reqs)]
  return wrk.format("GET", r[1], { ["Cookie"] = r[2] })
end
