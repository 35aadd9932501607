-- Shared by the limit scripts (prepended when they are loaded). Token buckets of one hash tag live in one hash,
-- "{prefix}:buckets", a field per bucket holding "used:ms of last update": a script reads all its buckets with one
-- HMGET and writes them with one HSET (each call from a script costs microseconds, more than its arithmetic). The
-- hash expires a day after its last write (the longest window), so an idle gateway's state goes away.
local day_ms = 86400000

-- The time of the decision: the caller's, or this server's TIME (one clock for every replica).
local function decision_time(given)
  local now = tonumber(given)
  if now < 0 then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  return now
end

-- What is in use in a token bucket now: its stored "used:ms" (false when absent) drained at capacity per window since.
local function in_use(state, capacity, window, now)
  if not state then
    return 0
  end
  local colon = string.find(state, ':', 1, true)
  local used = tonumber(string.sub(state, 1, colon - 1))
  local elapsed = now - tonumber(string.sub(state, colon + 1))
  if elapsed > 0 then
    used = math.max(0, used - elapsed * capacity / window)
  end
  return used
end

-- A bucket's stored form. Written with '%d' only, rounded up to a millionth: Lua prints any other number with '%.14g',
-- glibc's slow float path (it was a large part of redis-server's time).
local function encode(used, now)
  local whole = math.floor(used)
  local millionths = math.ceil((used - whole) * 1000000)
  if millionths >= 1000000 then
    whole, millionths = whole + 1, 0
  end
  return string.format('%d.%06d:%d', whole, millionths, now)
end

-- Writes changed buckets (field, value, field, value, ...) and keeps the hash a day past this write.
local function store_all(key, pairs_list)
  if pairs_list[1] then
    redis.call('HSET', key, unpack(pairs_list))
    redis.call('PEXPIRE', key, day_ms + 60000)
  end
end
