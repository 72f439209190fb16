-- wrk script for the memory run: every request reads a random generated list, with a random
-- `at` date, through one of four read endpoints, so nearly every request misses the caches.
-- Deterministic per wrk thread (seeded by the thread's number). Settings from the environment.
local lists = tonumber(os.getenv("BENCH_LISTS") or "1000")
local values = tonumber(os.getenv("BENCH_VALUES") or "1000")
local prefix = os.getenv("BENCH_LIST_PREFIX") or "scale-"

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("number", counter)
end

function init(args)
  math.randomseed(7919 * (number or 1))
end

function request()
  local key = string.format("%s%04d", prefix, math.random(1, lists))
  local day = string.format(
    "%04d-%02d-%02d", math.random(2000, 2030), math.random(1, 12), math.random(1, 28)
  )
  local code = string.format("%04d", math.random(1, values))
  local pick = math.random()
  local path
  if pick < 0.4 then
    path = "/v1/codelists/" .. key .. "/options?at=" .. day
  elseif pick < 0.7 then
    path = "/v1/codelists/" .. key .. "?at=" .. day
  elseif pick < 0.9 then
    path = "/v1/codelists/" .. key .. "/values/" .. code .. "?at=" .. day
  else
    path = "/v1/codelists/" .. key .. "/validate?code=" .. code .. "&at=" .. day
  end
  return wrk.format("GET", path)
end
