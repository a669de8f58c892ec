"""The Lua scripts of `RedisThrottleStore`: each call is one atomic step in one round trip.

Times are Redis's own (`TIME`), in milliseconds, so processes with skewed clocks agree. A
bucket is a hash: `c` the attempts counted, `n` when the next attempt is allowed.
"""

from __future__ import annotations

import hashlib

# KEYS: account bucket, client bucket. ARGV, per bucket: attempts, window, base delay, max
# delay (ms). Returns {0, 0} when counted, else {1 (account) or 2 (client), wait in ms}.
ATTEMPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, 2 do
  local next_allowed = tonumber(redis.call('HGET', KEYS[i], 'n') or '0')
  if next_allowed > now then
    return {i, next_allowed - now}
  end
end
for i = 1, 2 do
  local attempts = tonumber(ARGV[i * 4 - 3])
  local window = tonumber(ARGV[i * 4 - 2])
  local count = redis.call('HINCRBY', KEYS[i], 'c', 1)
  if redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], window)
  end
  if count >= attempts then
    local delay = tonumber(ARGV[i * 4 - 1]) * 2 ^ math.min(count - attempts, 64)
    local wait = math.floor(math.min(delay, tonumber(ARGV[i * 4])))
    redis.call('HSET', KEYS[i], 'n', string.format('%d', now + wait))
    if redis.call('PTTL', KEYS[i]) < wait then
      redis.call('PEXPIRE', KEYS[i], wait)
    end
  end
end
return {0, 0}
"""

# KEYS: account bucket, client bucket. ARGV: the client limit's attempts.
SUCCEEDED = """
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  local count = redis.call('HINCRBY', KEYS[2], 'c', -1)
  if count <= 0 then
    redis.call('DEL', KEYS[2])
  elseif count < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[2], 'n')
  end
end
return 0
"""


def sha1(script: str) -> str:
    """The digest `EVALSHA` names a script by."""
    return hashlib.sha1(script.encode("utf-8"), usedforsecurity=False).hexdigest()
