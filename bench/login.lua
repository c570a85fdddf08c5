-- POST /api/v1/auth/login in a loop (the login burst). Args: email password.
local body
function init(args)
  body = string.format('{"email": "%s", "password": "%s"}', args[1], args[2])
end
function request()
  return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
end
