-- Shared by the wrk scripts of bench-mssld.py (bench/mssld-issue.lua,
-- bench/mssld-list.lua), which finds it on LUA_PATH: wrk's thread list,
-- each thread's count of answers, and the lines done() prints.
--
--   BENCH ok=N bad=N [name=N ...] p50_us=N p99_us=N errors=N
--   BENCH-BAD <status> <body>     the first non-2xx answer, if any
--
-- ok: 2xx answers; bad: any other status; errors: wrk's socket errors.

local M = { threads = {} }
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(M.threads, thread)
end

-- In each thread's init(): the counters response() keeps.
function M.init_counts()
   ok = 0
   bad = 0
   bad_status = 0
   bad_body = ""
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

-- done()'s lines; the threads' counters named in 'sums' are added up,
-- those in 'maxes' give their highest value.
function M.done(summary, latency, sums, maxes)
   local t_ok, t_bad, bs, bb, extra = 0, 0, 0, "", ""
   for _, t in ipairs(M.threads) do
      t_ok = t_ok + t:get("ok")
      t_bad = t_bad + t:get("bad")
      if bs == 0 and t:get("bad_status") ~= 0 then
         bs = t:get("bad_status")
         bb = t:get("bad_body")
      end
   end
   for _, name in ipairs(sums or {}) do
      local v = 0
      for _, t in ipairs(M.threads) do v = v + t:get(name) end
      extra = extra .. string.format(" %s=%d", name, v)
   end
   for _, name in ipairs(maxes or {}) do
      local v = -1
      for _, t in ipairs(M.threads) do v = math.max(v, t:get(name)) end
      extra = extra .. string.format(" %s=%d", name, v)
   end
   io.write(string.format(
      "BENCH ok=%d bad=%d%s p50_us=%d p99_us=%d errors=%d\n", t_ok, t_bad,
      extra, latency:percentile(50), latency:percentile(99),
      summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout))
   if bs ~= 0 then
      io.write(string.format("BENCH-BAD %d %s\n", bs,
                             string.gsub(bb, "\n", " ")))
   end
end

return M
