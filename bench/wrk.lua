-- wrk.lua - the request shapes of the msvc benchmark, configured through
-- the environment so that one script serves every scenario.
--
--   BENCH_METHOD       HTTP method (GET)
--   BENCH_TOKEN        adds "Authorization: Bearer <token>"
--   BENCH_BODY         a JSON body sent with every request
--   BENCH_BODIES_FILE  a file of JSON bodies, one a line: requests rotate
--                      over them (logins spread over many accounts)
--   BENCH_CHAIN        a JSON field name (refresh_token): the bodies of
--                      BENCH_BODIES_FILE are a queue in which each body is
--                      sent once, never twice; each 200 answer's value of
--                      that field goes to the back of the queue as the body
--                      {"<field>":"<value>"}.  So every refresh token is
--                      presented exactly once, as a client that keeps its
--                      latest token would.  Needs wrk -t1 (one queue).
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

local chain = os.getenv("BENCH_CHAIN")
if chain == "" then
  chain = nil
end

if bodies_file and bodies_file ~= "" and chain then
  -- A FIFO of bodies not sent yet: queue[head..tail].  Each request takes
  -- the oldest; each 200 answer appends its successor.  When every body
  -- is in flight or was lost (a non-200 answer carries no successor), a
  -- request goes out with an empty token, which the server refuses: an
  -- error wrk counts, and "starved" says why.
  queue, head, tail, starved, chained = {}, 1, 0, 0, 0
  for line in io.lines(bodies_file) do
    if line ~= "" then
      tail = tail + 1
      queue[tail] = line
    end
  end
  assert(tail > 0, "wrk.lua: no bodies in " .. bodies_file)
  local headers = {}
  for k, v in pairs(wrk.headers) do
    headers[k] = v
  end
  headers["Content-Type"] = "application/json"
  local pattern = '"' .. chain .. '"%s*:%s*"([^"]+)"'
  local empty = '{"' .. chain .. '":""}'

  function request()
    if head > tail then
      starved = starved + 1
      return wrk.format(method, nil, headers, empty)
    end
    local b = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format(method, nil, headers, b)
  end

  function response(status, hdrs, resp_body)
    if status == 200 and resp_body then
      local v = string.match(resp_body, pattern)
      if v then
        tail = tail + 1
        queue[tail] = '{"' .. chain .. '":"' .. v .. '"}'
        chained = chained + 1
      end
    end
  end
elseif bodies_file and bodies_file ~= "" then
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
local threads = {}
function setup(thread)
  assert(not (chain and thread_count > 0),
         "wrk.lua: BENCH_CHAIN needs wrk -t1")
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  threads[thread_count] = thread
end

function done(summary, latency, requests)
  local e = summary.errors
  -- Chain mode: successors received, and requests sent with no token.
  local chained, starved = 0, 0
  for _, t in ipairs(threads) do
    chained = chained + (tonumber(t:get("chained")) or 0)
    starved = starved + (tonumber(t:get("starved")) or 0)
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
      '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"chained":%d,' ..
      '"starved":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, chained, starved))
end
