-- Shared: prints one WRK_RESULT line (sourced by the other scripts through wrk's -s chaining is
-- not possible, so run.sh appends this file to each script it uses).
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT rps=%.0f ok_rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d ok=%d non2xx=%d sock_errors=%d\n",
    summary.requests / secs, (summary.requests - e.status) / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.requests - e.status, e.status, e.connect + e.read + e.write + e.timeout))
end
