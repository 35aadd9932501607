-- Admits a batch of requests in order, each one atomically for every limit of its plan: a request is admitted and
-- counted everywhere, or counted nowhere; the next request sees what the ones before it took. The buckets are read
-- with one HMGET and written with one HSET per batch, however many requests share them, and each number is sent once
-- per batch where it can be (Lua's tonumber is glibc's strtod: a few per request would cost more than the arithmetic).
-- KEYS[1]         the buckets hash of the batch's hash tag (see bucket.lua)
-- KEYS[2..]       concurrency caps (sorted set of lease id -> expiry ms)
-- ARGV[1]         now in ms, or -1 to use this server's TIME (one clock for every replica)
-- ARGV[2]         lease lifetime in ms
-- ARGV[3]         the number of limits the batch touches, then per limit: kind (0 requests, 1 tokens, 2 concurrency
--                 cap), capacity, window ms (0 for a cap), and its bucket's field in KEYS[1] or its cap's index in KEYS
-- then            the number of plans, and per plan: its number of limits, then their indexes (buckets, then caps)
-- then            the number of requests, and per request: its plan index (left out when the batch has one plan),
--                 then its token estimate if the plan has token buckets, then its lease id if it has caps (requests
--                 cost 1, tokens cost the estimate)
-- Returns the limits as the batch found them (see below), then per request in order its verdict: 0 admitted and
-- counted everywhere, or the 1-based index in its plan (buckets, then caps) of the limit that refused it, counting
-- nothing. Bucket state drains at capacity per window, so a changed limit applies at once.
local now = decision_time(ARGV[1])
local ttl = tonumber(ARGV[2])

local kinds, capacities, windows, refs = {}, {}, {}, {}
local fields, slots = {}, {}
local limits = tonumber(ARGV[3])
local at = 4
for k = 1, limits do
  kinds[k] = tonumber(ARGV[at])
  capacities[k] = tonumber(ARGV[at + 1])
  windows[k] = tonumber(ARGV[at + 2])
  if kinds[k] == 2 then
    refs[k] = KEYS[tonumber(ARGV[at + 3])]
  else
    refs[k] = ARGV[at + 3]
    fields[#fields + 1] = refs[k]
    slots[#slots + 1] = k
  end
  at = at + 4
end

local used, changed, held = {}, {}, {}
if fields[1] then
  local states = redis.call('HMGET', KEYS[1], unpack(fields))
  for i = 1, #slots do
    local k = slots[i]
    used[k] = in_use(states[i], capacities[k], windows[k], now)
  end
end

local plans = {}
local plan_count = tonumber(ARGV[at])
at = at + 1
for p = 1, plan_count do
  local count = tonumber(ARGV[at])
  local plan = {buckets = {}, caps = {}, tokens = false}
  for r = 1, count do
    local k = tonumber(ARGV[at + r])
    if kinds[k] == 2 then
      plan.caps[#plan.caps + 1] = k
    else
      plan.buckets[#plan.buckets + 1] = k
      plan.tokens = plan.tokens or kinds[k] == 1
    end
  end
  plans[p] = plan
  at = at + 1 + count
end

-- The reply starts with every limit as the batch found it: a bucket's use printed exactly ('%.17g' reads back to the
-- same double), a cap's leases held (-1 when no request reached it); then one verdict per request. The gateway
-- replays the verdicts with the same arithmetic to get each request's remaining and reset figures.
local result = {}
for k = 1, limits do
  if kinds[k] == 2 then
    result[k] = -1
  else
    result[k] = string.format('%.17g', used[k])
  end
end

local requests = tonumber(ARGV[at])
at = at + 1
local only = plan_count == 1 and plans[1] or nil
for r = 1, requests do
  local plan = only
  if not plan then
    plan = plans[tonumber(ARGV[at])]
    at = at + 1
  end
  local tokens = 0
  if plan.tokens then
    tokens = tonumber(ARGV[at])
    at = at + 1
  end
  local lease
  if plan.caps[1] then
    lease = ARGV[at]
    at = at + 1
  end

  local buckets, caps = plan.buckets, plan.caps
  local refused = 0
  for i = 1, #buckets do
    local k = buckets[i]
    if used[k] + (kinds[k] == 1 and tokens or 1) > capacities[k] then
      refused = i
      break
    end
  end

  if refused == 0 then
    for j = 1, #caps do
      local k = caps[j]
      if held[k] == nil then
        redis.call('ZREMRANGEBYSCORE', refs[k], '-inf', now)
        held[k] = redis.call('ZCARD', refs[k])
        result[k] = held[k]
      end
      if held[k] >= capacities[k] then
        refused = #buckets + j
        break
      end
    end
  end

  if refused == 0 then
    for i = 1, #buckets do
      local k = buckets[i]
      used[k] = used[k] + (kinds[k] == 1 and tokens or 1)
      changed[k] = true
    end
    for j = 1, #caps do
      local k = caps[j]
      held[k] = held[k] + 1
      redis.call('ZADD', refs[k], now + ttl, lease)
      changed[k] = true
    end
  end
  result[limits + r] = refused
end

local writes = {}
for k in pairs(changed) do
  if kinds[k] == 2 then
    redis.call('PEXPIRE', refs[k], ttl + 1000)
  else
    writes[#writes + 1] = refs[k]
    writes[#writes + 1] = encode(used[k], now)
  end
end
store_all(KEYS[1], writes)
return result
