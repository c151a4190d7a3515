-- wrk script: replay a file of pre-generated requests, each exactly once, then stop.
--
--   wrk -t N -c N -d LIMITs --timeout 30s -s benchmarks/replay.lua http://127.0.0.1:PORT -- FILE N DONE_DIR
--
-- FILE has one request a line, tab-separated: METHOD, PATH, BODY (may be empty), then any
-- number of "Name: value" headers for that request only (headers given with wrk's -H apply to
-- every request). Line i goes to thread i mod N, so the threads together keep the file's order
-- roughly. Run exactly one connection per thread (-t N -c N): a thread then sends its next
-- request only after the previous answer, so it stops after exactly its share and no request
-- is sent twice or left unsent. Each thread writes DONE_DIR/<id> when its share is answered
-- (the driver then interrupts wrk, whose main thread otherwise sleeps for the whole -d); the
-- -d limit bounds the run in time. done() prints one line, "WRKJSON {...}", with the answers
-- counted, the seconds from the first request sent to the last answer received (a monotonic
-- clock read through LuaJIT's ffi), wrk's latency percentiles in microseconds and the HTTP
-- statuses seen.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } replay_timespec;
int clock_gettime(int clk_id, replay_timespec *tp);
unsigned long pthread_self(void);
]]
local ts = ffi.new("replay_timespec")

local function now()
   ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: the same clock in every thread
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local function split(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
   end
   return fields
end

-- main state: number the threads and keep them for done()
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   threads[#threads + 1] = thread
end

-- thread state
function init(args)
   local file, nthreads = args[1], tonumber(args[2])
   done_dir = args[3]
   reqs = {}
   local i = 0
   for line in io.lines(file) do
      if i % nthreads == id then
         local f = split(line)
         local headers = {}
         for name, value in pairs(wrk.headers) do
            headers[name] = value
         end
         for j = 4, #f do
            local name, value = f[j]:match("^([^:]+):%s*(.*)$")
            headers[name] = value
         end
         local body = nil
         if f[3] ~= "" then body = f[3] end
         reqs[#reqs + 1] = wrk.format(f[1], f[2], headers, body)
      end
      i = i + 1
   end
   count, sent, answered, statuses = #reqs, 0, 0, {}
   started, finished = 0, 0
   main_thread = tonumber(ffi.C.pthread_self()) -- init() runs on wrk's main thread
end

function request()
   if tonumber(ffi.C.pthread_self()) == main_thread then
      -- wrk calls request() once on the main thread to check the script (thread 0 only): answer
      -- without using up a request
      return reqs[1]
   end
   if sent == 0 then started = now() end
   sent = sent + 1
   -- with one connection per thread this is never called past the end; if it were (more
   -- connections than threads), repeat the last request rather than send nothing
   return reqs[sent] or reqs[#reqs]
end

function response(status, headers, body)
   answered = answered + 1
   statuses[status] = (statuses[status] or 0) + 1
   if answered == #reqs then
      finished = now()
      local f = io.open(done_dir .. "/" .. id, "w")
      f:write(tostring(answered))
      f:close()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local first, last, answered_all, expected, complete = nil, nil, 0, 0, true
   local statuses_all = {}
   for _, t in ipairs(threads) do
      local s, f = t:get("started"), t:get("finished")
      answered_all = answered_all + t:get("answered")
      expected = expected + t:get("count")
      if f == 0 then complete = false end
      if s > 0 and (first == nil or s < first) then first = s end
      if f > 0 and (last == nil or f > last) then last = f end
      for code, n in pairs(t:get("statuses")) do
         statuses_all[code] = (statuses_all[code] or 0) + n
      end
   end
   if not complete or last == nil then last = now() end
   local codes = {}
   for code, n in pairs(statuses_all) do
      codes[#codes + 1] = string.format('"%d":%d', code, n)
   end
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"answered":%d,"expected":%d,"complete":%s,"seconds":%.6f,"p50_us":%d,"p95_us":%d,' ..
      '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
      '"statuses":{%s}}\n',
      answered_all, expected, tostring(complete), last - (first or last),
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.timeout, table.concat(codes, ",")))
end
