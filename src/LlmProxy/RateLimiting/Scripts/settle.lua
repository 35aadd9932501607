-- Settles one or more admitted requests: token buckets get back what was reserved but not used (a negative refund
-- charges tokens used beyond the reservation), and the request's concurrency leases are released.
-- KEYS[1..n]      token buckets ("used:ms of last update")
-- KEYS[n+1..]     concurrency caps
-- ARGV[1]         now in ms, or -1 to use this server's TIME
-- ARGV[2]         n
-- ARGV[3]         lease id
-- ARGV[4..3+3n]   per bucket: capacity, window ms, refund
local now = decision_time(ARGV[1])

local n = tonumber(ARGV[2])
for i = 1, n do
  local at = 3 + (i - 1) * 3
  local capacity = tonumber(ARGV[at + 1])
  local window = tonumber(ARGV[at + 2])
  local refund = tonumber(ARGV[at + 3])
  store(KEYS[i], math.max(0, in_use(KEYS[i], capacity, window, now) - refund), capacity, window, now)
end

for j = n + 1, #KEYS do
  redis.call('ZREM', KEYS[j], ARGV[3])
end
return 1
