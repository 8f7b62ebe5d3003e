-- wrk.lua - the request shapes of the msvc benchmark, configured through
-- the environment so that one script serves every scenario.
--
--   BENCH_METHOD       HTTP method (GET)
--   BENCH_TOKEN        adds "Authorization: Bearer <token>"
--   BENCH_BODY         a JSON body sent with every request
--   BENCH_BODIES_FILE  a file of JSON bodies, one a line: requests rotate
--                      over them (logins spread over many accounts)
--
-- When no rotation is asked, no request() function is defined, so wrk
-- keeps its prebuilt request and the client costs as little as possible.
-- done() prints one line "BENCH_RESULT {json}" that bench.py parses:
-- latencies are in microseconds, as wrk measures them.

local method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN")
local body = os.getenv("BENCH_BODY")
local bodies_file = os.getenv("BENCH_BODIES_FILE")

wrk.method = method
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

if bodies_file and bodies_file ~= "" then
  local list = {}
  for line in io.lines(bodies_file) do
    if line ~= "" then
      list[#list + 1] = line
    end
  end
  assert(#list > 0, "wrk.lua: no bodies in " .. bodies_file)
  local headers = {}
  for k, v in pairs(wrk.headers) do
    headers[k] = v
  end
  headers["Content-Type"] = "application/json"
  local next_index = 0

  function init(args)
    -- Threads start at different accounts, so two threads never log into
    -- the same account in step.
    next_index = (wrk.thread:get("id") or 0) * 7
  end

  function request()
    next_index = next_index % #list + 1
    return wrk.format(method, nil, headers, list[next_index])
  end
end

local thread_count = 0
function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
      '"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
