-- Settles one or more admitted requests: token buckets get back what was reserved but not used (a negative refund
-- charges tokens used beyond the reservation), and the request's concurrency leases are released.
-- KEYS[1..n]      token buckets ("used:ms of last update")
-- KEYS[n+1..]     concurrency caps
-- ARGV[1]         now in ms, or -1 to use this server's TIME
-- ARGV[2]         n
-- ARGV[3]         lease id
-- ARGV[4..3+3n]   per bucket: capacity, window ms, refund
local now = tonumber(ARGV[1])
if now < 0 then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local n = tonumber(ARGV[2])
for i = 1, n do
  local at = 3 + (i - 1) * 3
  local capacity = tonumber(ARGV[at + 1])
  local window = tonumber(ARGV[at + 2])
  local refund = tonumber(ARGV[at + 3])
  local current = 0
  local state = redis.call('GET', KEYS[i])
  if state then
    local colon = string.find(state, ':', 1, true)
    current = tonumber(string.sub(state, 1, colon - 1))
    local elapsed = now - tonumber(string.sub(state, colon + 1))
    if elapsed > 0 then
      current = math.max(0, current - elapsed * capacity / window)
    end
  end
  current = math.max(0, current - refund)
  redis.call('SET', KEYS[i], tostring(current) .. ':' .. now, 'PX', math.ceil(current * window / capacity) + window + 1000)
end

for j = n + 1, #KEYS do
  redis.call('ZREM', KEYS[j], ARGV[3])
end
return 1
