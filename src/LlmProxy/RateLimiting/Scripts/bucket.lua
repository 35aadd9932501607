-- Shared by the limit scripts (prepended when they are loaded).
-- The time of the decision: the caller's, or this server's TIME (one clock for every replica).
local function decision_time(given)
  local now = tonumber(given)
  if now < 0 then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  return now
end

-- What is in use in a token bucket now: the stored "used:ms" drained at capacity per window since then.
local function in_use(key, capacity, window, now)
  local state = redis.call('GET', key)
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

-- Stores what is in use; a missing bucket is an unused one, so it is kept until drained plus a window of slack.
-- Whole numbers go out through '%d' (a Lua number given to redis.call or '..' is printed with the slower '%.14g').
local function store(key, used, capacity, window, now)
  local drained = math.ceil(used * window / capacity)
  redis.call('SET', key, tostring(used) .. string.format(':%d', now), 'PX', string.format('%d', drained + window + 1000))
  return drained
end

