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
-- done() prints bench/mssld-common.lua's BENCH lines with used=N
-- (bodies sent), wrapped=N (reissues) and max_line=N (the highest pool
-- line sent, for the next run's BENCH_START).

local common = require("mssld-common")

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
   used = 0
   wrapped = 0
   max_line = -1
   common.init_counts()
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

function done(summary, latency, requests)
   common.done(summary, latency, { "used", "wrapped" }, { "max_line" })
end
