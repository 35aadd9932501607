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
-- Returns {1, 0, 0, 0, remaining_1, reset_ms_1, ...} or {0, index, used, retry_after_ms}.
local now = decision_time(ARGV[1])

local n = tonumber(ARGV[2])
local used = {}
for i = 1, n do
  local at = 4 + (i - 1) * 3
  local capacity = tonumber(ARGV[at + 1])
  local window = tonumber(ARGV[at + 2])
  local cost = tonumber(ARGV[at + 3])
  local current = in_use(KEYS[i], capacity, window, now)
  if current + cost > capacity then
    return {0, i, math.ceil(current), math.ceil((current + cost - capacity) * window / capacity)}
  end
  used[i] = current + cost
end

local first = 5 + 3 * n
for j = n + 1, #KEYS do
  local capacity = tonumber(ARGV[first + j - n - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[j], '-inf', now)
  local count = redis.call('ZCARD', KEYS[j])
  if count >= capacity then
    return {0, j, count, 0}
  end
end

local result = {1, 0, 0, 0}
for i = 1, n do
  local at = 4 + (i - 1) * 3
  local capacity = tonumber(ARGV[at + 1])
  local window = tonumber(ARGV[at + 2])
  local drained = store(KEYS[i], used[i], capacity, window, now)
  result[#result + 1] = math.floor(capacity - used[i])
  result[#result + 1] = drained
end

local ttl = tonumber(ARGV[4])
for j = n + 1, #KEYS do
  redis.call('ZADD', KEYS[j], now + ttl, ARGV[3])
  redis.call('PEXPIRE', KEYS[j], ttl + 1000)
end
return result
