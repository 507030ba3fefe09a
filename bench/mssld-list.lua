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
-- done() prints bench/mssld-common.lua's BENCH lines.

local common = require("mssld-common")

function init(args)
   mode = os.getenv("BENCH_MODE") or "first"
   pages = tonumber(os.getenv("BENCH_PAGES") or "1")
   rows = tonumber(os.getenv("BENCH_ROWS") or "1")
   math.randomseed(os.time() * 100 + id)
   common.init_counts()
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

function done(summary, latency, requests)
   common.done(summary, latency)
end
