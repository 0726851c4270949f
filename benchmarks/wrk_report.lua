-- Loaded by every wrk run of `make bench`: at the end, print the run's figures as one JSON line
-- ("BENCH_JSON {...}") for bench.py to read. Scripts that add figures redefine done().

function bench_report(summary, latency, extra)
  local e = summary.errors
  local parts = {
    string.format('"requests": %d', summary.requests),
    string.format('"duration_us": %d', summary.duration),
    string.format(
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}',
      e.connect, e.read, e.write, e.status, e.timeout
    ),
    string.format(
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d}',
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max
    ),
  }
  for key, value in pairs(extra or {}) do
    if type(value) == "number" then
      table.insert(parts, string.format('"%s": %d', key, value))
    else
      table.insert(parts, string.format('"%s": "%s"', key, tostring(value)))
    end
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ", ") .. "}\n")
end

function done(summary, latency, requests)
  bench_report(summary, latency, {})
end
