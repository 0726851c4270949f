-- Section h of `make bench`: logins with the right password, as fast as the app answers them.
--
-- BENCH_LOGIN_BODIES: url-encoded login forms separated by "|", taken in turn (a few users, so
-- that no user's session cap ends sessions the run depends on).

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_report.lua")

local bodies = {}
for body in string.gmatch(os.getenv("BENCH_LOGIN_BODIES") or "", "[^|]+") do
  table.insert(bodies, body)
end
local sent = 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function request()
  sent = sent + 1
  return wrk.format("POST", "/auth/jwt/login", headers, bodies[sent % #bodies + 1])
end
