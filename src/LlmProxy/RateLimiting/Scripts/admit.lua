-- Admits one request for every limit of its plan, atomically: all admit and are counted, or nothing is counted.
-- KEYS[1..n]      token buckets, stored as "used:ms of last update"; use drains at capacity per window, so a
--                 changed limit applies at once. Requests cost 1, tokens cost the estimate.
-- KEYS[n+1..]     concurrency caps (sorted set of lease id -> expiry ms)
-- ARGV[1]         now in ms, or -1 to use this server's TIME (one clock for every replica)
-- ARGV[2]         n
-- ARGV[3]         lease id
-- ARGV[4]         lease lifetime in ms
-- ARGV[5..4+3n]   per bucket: capacity, window ms, cost
-- ARGV[5+3n..]    per concurrency cap: capacity
-- Returns {1, 0, 0, 0, remaining_1, reset_ms_1, ...} after this request, or, storing nothing,
-- {0, index, used, retry_after_ms, remaining_1, reset_ms_1, ...} as the buckets stand without it.
local now = decision_time(ARGV[1])

local n = tonumber(ARGV[2])
local current = {}
local capacities = {}
local windows = {}
local costs = {}
local refused = {}
for i = 1, n do
  local at = 4 + (i - 1) * 3
  local capacity = tonumber(ARGV[at + 1])
  local window = tonumber(ARGV[at + 2])
  local cost = tonumber(ARGV[at + 3])
  capacities[i], windows[i], costs[i] = capacity, window, cost
  current[i] = in_use(KEYS[i], capacity, window, now)
  if not refused[1] and current[i] + cost > capacity then
    refused = {i, math.ceil(current[i]), math.ceil((current[i] + cost - capacity) * window / capacity)}
  end
end

if not refused[1] then
  local first = 5 + 3 * n
  for j = n + 1, #KEYS do
    local capacity = tonumber(ARGV[first + j - n - 1])
    redis.call('ZREMRANGEBYSCORE', KEYS[j], '-inf', now)
    local count = redis.call('ZCARD', KEYS[j])
    if count >= capacity then
      refused = {j, count, 0}
      break
    end
  end
end

if refused[1] then
  local result = {0, refused[1], refused[2], refused[3]}
  for i = 1, n do
    result[#result + 1] = math.floor(capacities[i] - current[i])
    result[#result + 1] = math.ceil(current[i] * windows[i] / capacities[i])
  end
  return result
end

local result = {1, 0, 0, 0}
for i = 1, n do
  local used = current[i] + costs[i]
  local drained = store(KEYS[i], used, capacities[i], windows[i], now)
  result[#result + 1] = math.floor(capacities[i] - used)
  result[#result + 1] = drained
end

local ttl = tonumber(ARGV[4])
for j = n + 1, #KEYS do
  redis.call('ZADD', KEYS[j], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[j], ttl + 1000)
end
return result
