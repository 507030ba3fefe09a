-- wrk script of bench-mssld.py: GET /api/v1/certificates, a page of 50,
-- each request a different query so that no one cached answer serves
-- them all.
--
-- Environment:
--   BENCH_TOKEN  the bearer session token
--   BENCH_MODE   first: offset=0 every time (the home screen);
--                pages: a random page among the first BENCH_PAGES;
--                cn:    cn=b<i>. for a random i below BENCH_ROWS, the
--                       search for one host among all certificates
--   BENCH_PAGES, BENCH_ROWS  as above
-- done() prints for bench-mssld.py:
--   BENCH ok=N bad=N p50_us=N p99_us=N errors=N
-- and a BENCH-BAD line with the first non-2xx status and body.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   mode = os.getenv("BENCH_MODE") or "first"
   pages = tonumber(os.getenv("BENCH_PAGES") or "1")
   rows = tonumber(os.getenv("BENCH_ROWS") or "1")
   math.randomseed(os.time() * 100 + id)
   ok = 0
   bad = 0
   bad_status = 0
   bad_body = ""
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
   local q
   if mode == "pages" then
      q = "limit=50&offset=" .. (math.random(0, pages - 1) * 50)
   elseif mode == "cn" then
      q = "limit=50&cn=b" .. math.random(0, rows - 1) .. "."
   else
      q = "limit=50&offset=0"
   end
   return wrk.format("GET", "/api/v1/certificates?" .. q)
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
   local t_ok, t_bad, bs, bb = 0, 0, 0, ""
   for _, t in ipairs(threads) do
      t_ok = t_ok + t:get("ok")
      t_bad = t_bad + t:get("bad")
      if bs == 0 and t:get("bad_status") ~= 0 then
         bs = t:get("bad_status")
         bb = t:get("bad_body")
      end
   end
   io.write(string.format(
      "BENCH ok=%d bad=%d p50_us=%d p99_us=%d errors=%d\n", t_ok, t_bad,
      latency:percentile(50), latency:percentile(99),
      summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout))
   if bs ~= 0 then
      io.write(string.format("BENCH-BAD %d %s\n", bs,
                             string.gsub(bb, "\n", " ")))
   end
end
