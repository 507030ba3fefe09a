-- wrk script of bench-mssld.py: POST /api/v1/certificates (issue), each
-- request with a body of its own from a pool made beforehand.
--
-- Environment:
--   BENCH_TOKEN    the bearer session token (a manager of the account)
--   BENCH_BODIES   the pool: one JSON issue body per line
--   BENCH_START    the pool's first line this run uses (0-based), so
--                  that every run sends CNs no earlier run sent
--   BENCH_THREADS  wrk's -t: thread k of n sends lines START+k,
--                  START+k+n, ... and no two threads the same one
-- Past the end of the pool a thread sends its lines of this run again:
-- reissues of CNs in their term, not charged; done() counts them.
--
-- done() prints one line for bench-mssld.py:
--   BENCH ok=N bad=N used=N wrapped=N p50_us=N p99_us=N max_line=N
-- ok: 2xx answers; bad: any other status (the first one's status and
-- body follow on a BENCH-BAD line); used: bodies sent; max_line: the
-- highest pool line sent, for the next run's BENCH_START.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local start = tonumber(os.getenv("BENCH_START") or "0")
   local n = tonumber(os.getenv("BENCH_THREADS") or "1")
   local path = assert(os.getenv("BENCH_BODIES"), "BENCH_BODIES")
   local line = 0
   pool = {}
   first = start + id
   stride = n
   for l in io.lines(path) do
      if line >= first and (line - first) % n == 0 then
         pool[#pool + 1] = l
      end
      line = line + 1
   end
   assert(#pool > 0, "BENCH_START is past the end of BENCH_BODIES")
   nextk = 0
   ok = 0
   bad = 0
   used = 0
   wrapped = 0
   max_line = -1
   bad_status = 0
   bad_body = ""
   wrk.method = "POST"
   wrk.path = "/api/v1/certificates"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
   local k = nextk % #pool
   if nextk >= #pool then
      -- Past the pool: this run's own lines again, reissues.
      wrapped = wrapped + 1
   end
   nextk = nextk + 1
   used = used + 1
   local ln = first + k * stride
   if ln > max_line then max_line = ln end
   return wrk.format(nil, nil, nil, pool[k + 1])
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      bad = bad + 1
      if bad_status == 0 then
         bad_status = status
         bad_body = string.sub(body or "", 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local t_ok, t_bad, t_used, t_wrapped, t_max = 0, 0, 0, 0, -1
   local bs, bb = 0, ""
   for _, t in ipairs(threads) do
      t_ok = t_ok + t:get("ok")
      t_bad = t_bad + t:get("bad")
      t_used = t_used + t:get("used")
      t_wrapped = t_wrapped + t:get("wrapped")
      t_max = math.max(t_max, t:get("max_line"))
      if bs == 0 and t:get("bad_status") ~= 0 then
         bs = t:get("bad_status")
         bb = t:get("bad_body")
      end
   end
   io.write(string.format(
      "BENCH ok=%d bad=%d used=%d wrapped=%d p50_us=%d p99_us=%d " ..
      "max_line=%d errors=%d\n",
      t_ok, t_bad, t_used, t_wrapped, latency:percentile(50),
      latency:percentile(99), t_max,
      summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout))
   if bs ~= 0 then
      io.write(string.format("BENCH-BAD %d %s\n", bs,
                             string.gsub(bb, "\n", " ")))
   end
end
