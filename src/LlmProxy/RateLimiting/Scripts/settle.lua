-- Settles one or more admitted requests: token buckets get back what was reserved but not used (a negative refund
-- charges tokens used beyond the reservation), and the requests' concurrency leases are released.
-- KEYS[1]         the buckets hash
-- KEYS[2..]       concurrency caps
-- ARGV[1]         now in ms, or -1 to use this server's TIME
-- ARGV[2]         n
-- ARGV[3]         lease id
-- ARGV[4..3+4n]   per bucket: field, capacity, window ms, refund
local now = decision_time(ARGV[1])

local n = tonumber(ARGV[2])
if n > 0 then
  local fields = {}
  for i = 1, n do
    fields[i] = ARGV[4 * i]
  end
  local states = redis.call('HMGET', KEYS[1], unpack(fields))
  local used, order = {}, {}
  for i = 1, n do
    local at = 4 * i
    local field = fields[i]
    local capacity = tonumber(ARGV[at + 1])
    local window = tonumber(ARGV[at + 2])
    if used[field] == nil then
      used[field] = in_use(states[i], capacity, window, now)
      order[#order + 1] = field
    end
    used[field] = math.max(0, used[field] - tonumber(ARGV[at + 3]))
  end
  local writes = {}
  for _, field in ipairs(order) do
    writes[#writes + 1] = field
    writes[#writes + 1] = encode(used[field], now)
  end
  store_all(KEYS[1], writes)
end

for j = 2, #KEYS do
  redis.call('ZREM', KEYS[j], ARGV[3])
end
return 1
