-- wrk script for the verify benchmark (docs/benchmarks.md, "Verify with proof"):
-- each request asks the GS1 resolver path of a random bottle that `jiu demo --ingest-only`
-- seeded, so every answer is a full public answer with its proof.
--
--   BOTTLES=10000800 wrk -t2 -c32 -d20s --latency -s cli/bench/verify.lua http://127.0.0.1:26650
--
-- BOTTLES is how many bottles the ingest seeded (serials B000000000 up); default 10,000,000.

local bottles = tonumber(os.getenv("BOTTLES") or "10000000")

function setup(thread)
  thread:set("seed", math.random(1, 2 ^ 30))
end

function init(args)
  math.randomseed(seed or os.time())
end

function request()
  local n = math.random(0, bottles - 1)
  return wrk.format("GET", string.format("/01/09506000134352/21/B%09d", n))
end
