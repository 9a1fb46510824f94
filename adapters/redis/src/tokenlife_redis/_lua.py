"""The Lua scripts: each atomic step of the store is one script, one round trip.

Every script touches the keys of ONE hash slot when given only its "own"
keys, so it runs unchanged on Redis Cluster. A few take optional extra keys
in other slots (the subject index, a denial, a purge queue); a standalone
server accepts those, so there one lifecycle operation is still one script.

``REFRESH`` is :func:`tokenlife._machine.decide_refresh` transcribed rule by
rule (the step numbers match docs/design/lifecycle.md#refresh). It returns the snapshot it
decided on, so the Python side re-runs the real ``decide_refresh`` on exactly
that snapshot and refuses to go on if the two ever disagree.

Conventions: times are stored as the text Python sent and only compared as
numbers here (never formatted, so never rounded); a session hash is read with
:data:`FIELDS` in :data:`tokenlife_redis._codec.SESSION_FIELDS` order; expiry
durations are milliseconds the caller computed on its own clock.
"""

from __future__ import annotations

from typing import Final

from ._codec import ACTIVE_TAIL, SESSION_FIELDS

_FIELDS = ", ".join(f"'{name}'" for name in SESSION_FIELDS)

PRELUDE: Final = f"""
local FIELDS = {{{_FIELDS}}}
local ACTIVE_TAIL = '{ACTIVE_TAIL.decode()}'

-- One reply as one JSON array of strings (nil as null): a single bulk string
-- the client decodes in one C call, instead of a RESP array parsed element by
-- element. Only strings go in, so cjson never formats a number.
local function pack(head, fields)
  local out = {{}}
  for i = 1, #head do out[i] = head[i] or cjson.null end
  for i = 1, #FIELDS do out[#head + i] = fields[i] or cjson.null end
  return cjson.encode(out)
end

-- Expire a key after ms milliseconds, a duration the caller measured on its
-- own clock (deadline - now): the server's clock only counts it down, so a
-- skewed server cannot cut it short. A duration that is not positive means
-- the caller's deadline is already behind: the key then stays until purge().
local function expire_in(key, ms)
  if tonumber(ms) > 0 then redis.call('PEXPIRE', key, ms) end
end

-- A key shared by members with different deadlines lives until the latest;
-- one member without a usable deadline keeps it until purge().
local function extend(key, ms, existed)
  if tonumber(ms) <= 0 then
    redis.call('PERSIST', key)
  elseif not existed then
    redis.call('PEXPIRE', key, ms)
  else
    local ttl = redis.call('PTTL', key)
    if ttl >= 0 and ttl < tonumber(ms) then redis.call('PEXPIRE', key, ms) end
  end
end

local function index_add(index, ms, created_at, sid)
  local existed = redis.call('EXISTS', index) == 1
  redis.call('ZADD', index, created_at, sid)
  extend(index, ms, existed)
end

-- Deny an access jti until its exp; a denial only ever grows.
local function deny(key, queue, jti, untl, ms)
  local old = redis.call('GET', key)
  if old and tonumber(old) >= tonumber(untl) then return end
  redis.call('SET', key, untl)
  expire_in(key, ms)
  if queue then redis.call('ZADD', queue, 'GT', untl, jti) end
end
"""

CREATE: Final = """
-- KEYS: session, family [, subject index, subject watermark, session queue]
-- ARGV: 1 ttl_ms, 2 sid, 3 created_at, 4 expires_at, 5 first jti, 6 first record,
--       7 max sessions ('' = no limit), 8 'refuse' or 'end_oldest', 9 now, 10 reason,
--       11 and 12 session key head and tail (see END_OTHERS), 13... session pairs
-- Returns {'ok', sids ended...}, {'duplicate'} or {'refused'} (nothing written).
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return {'duplicate'} end
local ended = {'ok'}
if ARGV[7] ~= '' and #KEYS == 5 then
  -- tokenlife.store.sessions_to_end, transcribed: the live sessions (not revoked,
  -- not expired at now, not below the watermark), oldest first (the index is
  -- scored by created_at; equal scores sort by sid, as the core sorts).
  local now, w, live = tonumber(ARGV[9]), redis.call('GET', KEYS[4]), {}
  if w then w = tonumber(w) end
  for _, sid in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    local v = redis.call('HMGET', ARGV[11] .. sid .. ARGV[12], 'rv', 'ea', 'ca')
    if v[2] and not v[1] and now < tonumber(v[2]) and not (w and tonumber(v[3]) < w) then
      live[#live + 1] = sid
    end
  end
  local excess = #live + 1 - tonumber(ARGV[7])
  if excess > 0 then
    if ARGV[8] == 'refuse' then return {'refused'} end
    for i = 1, excess do
      redis.call('HSET', ARGV[11] .. live[i] .. ARGV[12], 'rv', ARGV[9], 'rr', ARGV[10])
      ended[#ended + 1] = live[i]
    end
  end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 13))
redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
expire_in(KEYS[1], ARGV[1])
expire_in(KEYS[2], ARGV[1])
if #KEYS == 5 then
  local w = redis.call('GET', KEYS[4])
  if w then redis.call('HSET', KEYS[1], 'wm', w) end
  index_add(KEYS[3], ARGV[1], ARGV[3], ARGV[2])
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[2])
end
return ended
"""

SUBJECT_ADD: Final = """
-- Cluster half of CREATE, run after it. KEYS: subject index, subject watermark
-- ARGV: ttl_ms, created_at, sid. Returns the watermark (to mirror) or nil.
index_add(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return redis.call('GET', KEYS[2])
"""

MARK: Final = """
-- Mirror a subject watermark into a session and optionally revoke it.
-- KEYS: session. ARGV: watermark, now, reason, '1' to revoke. Returns 1 if revoked now.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local wm = redis.call('HGET', KEYS[1], 'wm')
if not wm or tonumber(ARGV[1]) > tonumber(wm) then redis.call('HSET', KEYS[1], 'wm', ARGV[1]) end
if ARGV[4] == '1' and redis.call('HEXISTS', KEYS[1], 'rv') == 0 then
  redis.call('HSET', KEYS[1], 'rv', ARGV[2], 'rr', ARGV[3])
  return 1
end
return 0
"""

REFRESH: Final = """
-- KEYS: session, family
-- ARGV: 1 jti, 2 sid, 3 subject, 4 now, 5 grace, 6 successor jti, 7 successor head,
--       8 successor tail, 9 parent's rotated tail, 10 now + refresh_ttl,
--       11 int(now) to raise the access floor to ('' = leave it)
-- Returns pack({decision, record, successor}, session) as read BEFORE any write.
local S = redis.call('HMGET', KEYS[1], unpack(FIELDS))
local raw = redis.call('HGET', KEYS[2], ARGV[1])
local function decided(code, successor) return pack({code, raw, successor or false}, S) end
-- 1. Unknown token, or claims that disagree with the store.
if not S[1] or not raw then return decided('unknown') end
-- r: sid, subject, issued_at, expires_at, parent, state, rotated_at, successor
local r = cjson.decode(raw)
if r[1] ~= ARGV[2] or r[2] ~= ARGV[3] or S[2] ~= ARGV[3] then return decided('unknown') end
-- 2. Revoked session, or one that began before the subject's watermark.
if S[8] or (S[12] and tonumber(S[3]) < tonumber(S[12])) then return decided('revoked') end
-- 3. Expired: nothing written.
local now, session_end = tonumber(ARGV[4]), tonumber(S[4])
if now >= session_end or now >= r[4] then return decided('expired') end
-- 4. The active token: rotate.
if r[6] == 'active' then
  if redis.call('HEXISTS', KEYS[2], ARGV[6]) == 1 then return decided('collision') end
  if string.sub(raw, -#ACTIVE_TAIL) ~= ACTIVE_TAIL then
    return redis.error_reply('tokenlife: unreadable refresh record')
  end
  local exp = ARGV[10]
  if session_end < tonumber(exp) then exp = S[4] end
  local floor = S[7]
  if ARGV[11] ~= '' and tonumber(ARGV[11]) > tonumber(floor) then floor = ARGV[11] end
  redis.call('HSET', KEYS[2],
    ARGV[1], string.sub(raw, 1, #raw - #ACTIVE_TAIL) .. ARGV[9],
    ARGV[6], ARGV[7] .. exp .. ARGV[8])
  local gen = string.format('%d', tonumber(S[13] or '0') + 1)
  redis.call('HSET', KEYS[1], 'cj', ARGV[6], 'ra', ARGV[4], 'af', floor, 'gn', gen)
  return decided('rotate')
end
-- Rotated later than this request's clock: no window holds a negative time.
if r[7] ~= cjson.null and now < r[7] then return decided('clock_behind') end
-- 5. The immediate parent of the current token, inside grace: same successor.
local succ = false
if r[8] ~= cjson.null then succ = redis.call('HGET', KEYS[2], r[8]) end
if r[7] ~= cjson.null and now - r[7] <= tonumber(ARGV[5]) and succ and r[8] == S[5] then
  return decided('replay', succ)
end
-- 6. Anything else rotated: reuse. The session dies (step 2 saw it open).
redis.call('HSET', KEYS[1], 'rv', ARGV[4], 'rr', 'reuse_detected')
return decided('reuse', succ)
"""

ACCESS: Final = """
-- KEYS: session, denial. Returns {denied, sub, rv, ca, af, wm, gn, ra} as one JSON array.
local v = redis.call('HMGET', KEYS[1], 'sub', 'rv', 'ca', 'af', 'wm', 'gn', 'ra')
local denied = tostring(redis.call('EXISTS', KEYS[2]))
return cjson.encode({denied, v[1] or cjson.null, v[2] or cjson.null, v[3] or cjson.null,
  v[4] or cjson.null, v[5] or cjson.null, v[6] or cjson.null, v[7] or cjson.null})
"""

REVOKE: Final = """
-- KEYS: session [, denial, denial queue]. ARGV: now, reason [, jti, until, ttl_ms]
-- Returns pack({}, the session afterwards), or nil for an unknown session.
if #KEYS == 3 then deny(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5]) end
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HEXISTS', KEYS[1], 'rv') == 0 then
  redis.call('HSET', KEYS[1], 'rv', ARGV[1], 'rr', ARGV[2])
end
return pack({}, redis.call('HMGET', KEYS[1], unpack(FIELDS)))
"""

DENY: Final = """
-- KEYS: denial [, denial queue]. ARGV: jti, until, ttl_ms
deny(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
return 1
"""

SUBJECT_MARK: Final = """
-- Raise the watermark. KEYS: watermark, index [, watermark queue]. ARGV: now, subject
-- Returns {watermark, sid...}: the sessions to mirror it into and revoke.
local w = redis.call('GET', KEYS[1])
if not w or tonumber(ARGV[1]) > tonumber(w) then
  w = ARGV[1]
  redis.call('SET', KEYS[1], w)
end
if #KEYS == 3 then redis.call('ZADD', KEYS[3], 'GT', w, ARGV[2]) end
local out = redis.call('ZRANGE', KEYS[2], 0, -1)
table.insert(out, 1, w)
return out
"""

#: Revoke one session unless revoked already: 1 if this call revoked it.
_END_ONE = """
local function end_one(key, now, reason)
  if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'rv') == 1 then return 0 end
  redis.call('HSET', key, 'rv', now, 'rr', reason)
  return 1
end
"""

END_SESSION: Final = (
    _END_ONE
    + """
-- Cluster step of "everywhere else": KEYS: session. ARGV: now, reason. 1 if revoked now.
return end_one(KEYS[1], ARGV[1], ARGV[2])
"""
)

END_OTHERS: Final = (
    _END_ONE
    + """
-- "Everywhere else" on a single server, atomically: every session in the subject
-- index but one, no watermark. KEYS: index. ARGV: now, reason, kept sid, session
-- key head and tail (the key is head .. sid .. tail, as ``Keys.session`` spells it:
-- keys outside KEYS, which a single server allows). Returns how many were revoked.
local n = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid ~= ARGV[3] then n = n + end_one(ARGV[4] .. sid .. ARGV[5], ARGV[1], ARGV[2]) end
end
return n
"""
)

SESSIONS: Final = """
-- A subject's sessions in one round trip (single server). KEYS: index.
-- ARGV: session key head and tail (see END_OTHERS). Returns one pack() per
-- session still stored, in index order.
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HMGET', ARGV[1] .. sid .. ARGV[2], unpack(FIELDS))
  if fields[1] then out[#out + 1] = pack({}, fields) end
end
return out
"""

UNLOCK: Final = """
-- KEYS: lock. ARGV: the holder's token. Release only a lock this holder still holds.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

PURGE_SESSION: Final = """
-- KEYS: session, family. Returns the subject (nil if the key had already expired).
local sub = redis.call('HGET', KEYS[1], 'sub')
redis.call('DEL', KEYS[1], KEYS[2])
return sub
"""

PURGE_VALUE: Final = """
-- Delete a denial or a watermark whose time is at or before ARGV[1].
-- KEYS: key [, subject index]. Returns nil if kept, else the index's sids (or {}).
local v = redis.call('GET', KEYS[1])
if not v or tonumber(v) > tonumber(ARGV[1]) then return false end
redis.call('DEL', KEYS[1])
if KEYS[2] then return redis.call('ZRANGE', KEYS[2], 0, -1) end
return {}
"""

CLEAR_MIRROR: Final = """
-- KEYS: session. ARGV: before. Forget a mirrored watermark that purge removed.
local wm = redis.call('HGET', KEYS[1], 'wm')
if wm and tonumber(wm) <= tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], 'wm') end
return 1
"""

QUEUE_TRIM: Final = """
-- KEYS: purge queue. ARGV: before, members... Drop members still scored <= before.
local n = 0
for i = 2, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) <= tonumber(ARGV[1]) then n = n + redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return n
"""

#: Every script, by name; each is sent as PRELUDE + body.
SOURCES: Final = {
    "create": CREATE,
    "subject_add": SUBJECT_ADD,
    "mark": MARK,
    "refresh": REFRESH,
    "access": ACCESS,
    "revoke": REVOKE,
    "deny": DENY,
    "subject_mark": SUBJECT_MARK,
    "end_session": END_SESSION,
    "end_others": END_OTHERS,
    "unlock": UNLOCK,
    "sessions": SESSIONS,
    "purge_session": PURGE_SESSION,
    "purge_value": PURGE_VALUE,
    "clear_mirror": CLEAR_MIRROR,
    "queue_trim": QUEUE_TRIM,
}

__all__ = ("PRELUDE", "SOURCES")
