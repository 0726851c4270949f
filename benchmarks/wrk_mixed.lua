-- The memory soak's traffic (bench.py, section e): what a signed-in user does, mixed.
--
-- Every 20 requests: 13 GET /users/me, 4 GET /task/?limit=20, 1 POST /task/, 1 PUT /task/{id},
-- 1 DELETE /task/{id} (read-heavy, as real use is; SecantusDB's writes slow down as they add up,
-- see the README); every 50th request is a refresh (POST /auth/jwt/refresh with the refresh
-- cookie and no Origin) and every 1000th a login with the right password (of another user: a
-- user keeps 50 sessions, and the oldest, whose token this presents, would end). At most one
-- login or refresh is in flight, so the refresh token in use is always the newest (rotation).
--
-- Read from the environment: BENCH_TOKEN (the Bearer token), BENCH_REFRESH (a refresh token),
-- BENCH_LOGIN_BODY (the login form, url-encoded), BENCH_OFFSET (requests served by earlier runs
-- of the soak), BENCH_QUOTA (stop after this many responses, or a few more while a login or
-- refresh is unanswered) and BENCH_DONE_FILE (written at the quota, so bench.py ends wrk at once).
-- Run with one thread (-t1): the state below is per thread.

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_report.lua")

local SCHEDULE = {
  "me", "list", "me", "create", "me", "list", "me", "me", "update", "me",
  "list", "me", "me", "delete", "me", "list", "me", "me", "me", "me",
}
local MAX_IDS = 200

local bearer = "Bearer " .. os.getenv("BENCH_TOKEN")
local login_body = os.getenv("BENCH_LOGIN_BODY")
local quota = tonumber(os.getenv("BENCH_QUOTA") or "0")
local done_file = os.getenv("BENCH_DONE_FILE")

-- Requests served by the earlier runs of this soak: the login and refresh schedule continues.
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local next_login = (math.floor(offset / 1000) + 1) * 1000
local next_refresh = (math.floor(offset / 50) + 1) * 50

-- Globals, so that done() can read them from the thread with thread:get().
refresh = os.getenv("BENCH_REFRESH")
sent, responses = offset, 0
logins_ok, logins_failed, refreshes_ok, refreshes_failed = 0, 0, 0, 0
failures = "" -- "404=3 503=1": the answers that were not 2xx, by status
last_failure = "" -- the last of them, status and the start of the body

local failed_by_status = {}

local function count_failure(status, body)
  failed_by_status[status] = (failed_by_status[status] or 0) + 1
  local parts = {}
  for code, n in pairs(failed_by_status) do
    table.insert(parts, code .. "=" .. n)
  end
  failures = table.concat(parts, " ")
  last_failure = status .. " " .. body:sub(1, 160):gsub('["\\%c]', "'")
end

local ids = {} -- tasks created and not yet deleted; ids[1] stays and is the one updated
local auth_in_flight = nil -- "login" or "refresh"
local auth_waited = 0
local stopped = false

local json_headers = { ["Authorization"] = bearer, ["Content-Type"] = "application/json" }
local plain_headers = { ["Authorization"] = bearer }

local function auth_request(kind)
  auth_in_flight, auth_waited = kind, 0
  if kind == "login" then
    return wrk.format("POST", "/auth/jwt/login",
      { ["Content-Type"] = "application/x-www-form-urlencoded" }, login_body)
  end
  return wrk.format("POST", "/auth/jwt/refresh", { ["Cookie"] = "FARM_refresh=" .. refresh }, "")
end

function request()
  sent = sent + 1
  local auth_free = auth_in_flight == nil and (quota == 0 or sent - offset < quota)
  if auth_free and sent >= next_login then
    next_login = next_login + 1000
    return auth_request("login")
  end
  if auth_free and sent >= next_refresh then
    next_refresh = next_refresh + 50
    return auth_request("refresh")
  end
  local kind = SCHEDULE[sent % #SCHEDULE + 1]
  if kind == "create" and #ids >= MAX_IDS then
    kind = "delete"
  end
  if kind == "create" then
    return wrk.format("POST", "/task/", json_headers, '{"name": "soak task"}')
  elseif kind == "update" and #ids >= 1 then
    return wrk.format("PUT", "/task/" .. ids[1], json_headers, '{"completed": true}')
  elseif kind == "delete" and #ids >= 2 then
    return wrk.format("DELETE", "/task/" .. table.remove(ids), plain_headers)
  elseif kind == "list" then
    return wrk.format("GET", "/task/?limit=20", plain_headers)
  end
  return wrk.format("GET", "/users/me", plain_headers)
end

local function settle_auth(status, headers, body)
  if body:find('"access_token"', 1, true) then
    -- wrk keeps the last of repeated headers: the app sets FARM_refresh last.
    local cookie = headers["set-cookie"] or headers["Set-Cookie"] or ""
    local token = cookie:match("FARM_refresh=([^;]+)")
    if token and token ~= "" then
      refresh = token
    end
    if auth_in_flight == "login" then logins_ok = logins_ok + 1 else refreshes_ok = refreshes_ok + 1 end
    auth_in_flight = nil
  elseif status >= 400 and (body:find("REFRESH", 1, true) or body:find("SESSION", 1, true)
      or body:find("LOGIN", 1, true)) then
    if auth_in_flight == "login" then logins_failed = logins_failed + 1 else refreshes_failed = refreshes_failed + 1 end
    auth_in_flight = nil
  else
    auth_waited = auth_waited + 1
    if auth_waited > 1000 then -- its answer was lost (a timeout): do not wait forever
      auth_in_flight = nil
    end
  end
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 400 then
    count_failure(status, body)
  end
  if status == 201 then
    local id = body:match('"_?id"%s*:%s*"(%x+)"')
    if id then
      table.insert(ids, id)
    end
  elseif auth_in_flight ~= nil then
    settle_auth(status, headers, body)
  end
  -- At the quota, but never with a login or refresh unanswered: the next run continues with
  -- the refresh token this one saw last, which must be the newest.
  if quota > 0 and responses >= quota and auth_in_flight == nil and not stopped then
    stopped = true
    if done_file then
      local file = io.open(done_file, "w")
      if file then
        file:write(tostring(responses))
        file:close()
      end
    end
    wrk.thread:stop()
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local extra = {}
  for _, key in ipairs({ "logins_ok", "logins_failed", "refreshes_ok", "refreshes_failed" }) do
    extra[key] = 0
    for _, thread in ipairs(threads) do
      extra[key] = extra[key] + (thread:get(key) or 0)
    end
  end
  if threads[1] then
    extra.refresh = threads[1]:get("refresh")
    extra.failures = threads[1]:get("failures")
    extra.last_failure = threads[1]:get("last_failure")
  end
  bench_report(summary, latency, extra)
end
