-- Section g of `make bench`: refresh rotations, as fast as the app answers them.
--
-- BENCH_REFRESH_TOKENS: one refresh token per connection and one more (wrk calls request() once
-- to check it before connecting), comma-separated, each of a session of its own. A token goes out with a request and comes back, rotated, with its answer: with as
-- many tokens as connections one is always free, and no token is ever presented twice (that
-- would be reuse, and end the session). A refused refresh loses its token (wrk does not say
-- which request an answer is for): the next request without one is refused too, and counted.
-- Run with one thread (-t1): the pool below is per thread.

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_report.lua")

local free = {}
for token in string.gmatch(os.getenv("BENCH_REFRESH_TOKENS") or "", "[^,]+") do
  table.insert(free, token)
end
refreshes_ok, refreshes_failed = 0, 0

function request()
  local token = table.remove(free) or ""
  return wrk.format("POST", "/auth/jwt/refresh", { ["Cookie"] = "FARM_refresh=" .. token }, "")
end

function response(status, headers, body)
  local cookie = headers["set-cookie"] or headers["Set-Cookie"] or ""
  local rotated = status == 200 and cookie:match("FARM_refresh=([^;]+)")
  if rotated and rotated ~= "" then
    refreshes_ok = refreshes_ok + 1
    table.insert(free, rotated)
  else
    refreshes_failed = refreshes_failed + 1
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local extra = { refreshes_ok = 0, refreshes_failed = 0 }
  for _, thread in ipairs(threads) do
    extra.refreshes_ok = extra.refreshes_ok + (thread:get("refreshes_ok") or 0)
    extra.refreshes_failed = extra.refreshes_failed + (thread:get("refreshes_failed") or 0)
  end
  bench_report(summary, latency, extra)
end
