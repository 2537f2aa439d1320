import type { RedisClient } from "./redis-connector.js";

/**
 * The Lua scripts that make each multi-step operation atomic. ioredis's
 * `defineCommand` sends them by SHA and reloads them after NOSCRIPT (a
 * restarted or failed-over Redis), so callers just call the methods below.
 */

// Redis's clock in ms, as a Lua number: due times and expiries are its, not a client's.
const CLOCK = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// What the publish and release scripts share: storing one message in every
// queue of its route, and reading the routes. `mark(name, at)` puts a queue
// on the sweeper's due set by `at` (one Redis: KEYS[1], in the same script;
// a cluster: returned, since the due set is in another slot). A route's keys
// start where `readRoutes` is told. ARGV[1] is the
// number of routes, then per route the expected binding version ("" for the
// default exchange), the number of target queues and their names; its keys
// are the exchange's version key, then meta, stream and dead per queue. The
// version is read once: nothing changes it while the script runs.
// A queue over its maxLength drops its oldest entries, into its dead stream
// when it has a dead-letter exchange; queues with messages that can expire
// or dead letters to drain are put on the due set for the sweeper.
function routing(mark: string): string {
  return `${CLOCK}
local now
local metas = {}
${mark}
local function xadd(stream, trim, body, envelope, at)
  if trim then
    if at then return redis.call('XADD', stream, 'MAXLEN', '=', trim, '*', 'b', body, 'm', envelope, 'x', at) end
    return redis.call('XADD', stream, 'MAXLEN', '=', trim, '*', 'b', body, 'm', envelope)
  end
  if at then return redis.call('XADD', stream, '*', 'b', body, 'm', envelope, 'x', at) end
  return redis.call('XADD', stream, '*', 'b', body, 'm', envelope)
end
-- A queue's declaration, ttl, maxLength and dead-letter exchange, read once per script.
local function queueMeta(meta)
  local q = metas[meta]
  if not q then
    q = redis.call('HMGET', meta, 'decl', 'ttl', 'maxlen', 'dlx')
    metas[meta] = q
  end
  return q
end
local function store(meta, stream, dead, name, expiration, body, envelope)
  local q = queueMeta(meta)
  if not q[1] then return 0 end
  local limit
  if q[2] then limit = tonumber(q[2]) end
  if expiration ~= '' then
    local e = tonumber(expiration)
    if limit == nil or e < limit then limit = e end
  end
  local at
  if limit then
    now = now or clock()
    at = string.format('%.0f', now + limit)
    mark(name, at)
  end
  -- Without a dead-letter exchange the stream trims itself; with one, the overflow is moved below.
  xadd(stream, (q[3] and not q[4]) and q[3] or nil, body, envelope, at)
  if q[3] and q[4] then
    local over = redis.call('XLEN', stream) - tonumber(q[3])
    if over > 0 then
      for _, e in ipairs(redis.call('XRANGE', stream, '-', '+', 'COUNT', over)) do
        local f = e[2]
        f[#f + 1] = 'why'; f[#f + 1] = 'maxlen'
        redis.call('XADD', dead, '*', unpack(f))
        redis.call('XDEL', stream, e[1])
      end
      mark(name, '0')
    end
  end
  return 1
end
-- The routes, their keys from KEYS[k]; returns them and the index of the
-- first ARGV after them.
local function readRoutes(k)
  local routes = {}
  local a = 2
  for r = 1, tonumber(ARGV[1]) do
    local n = tonumber(ARGV[a + 1])
    local expected = ARGV[a]
    routes[r] = {
      stale = expected ~= '' and (redis.call('GET', KEYS[k]) or '0') ~= expected,
      k = k + 1, a = a + 2, n = n,
    }
    k = k + 1 + 3 * n
    a = a + 2 + n
  end
  return routes, a
end
-- One message into each of its route's queues; returns how many stored it.
local function publish(route, expiration, body, envelope)
  local stored = 0
  for j = 0, route.n - 1 do
    local at = route.k + 3 * j
    stored = stored + store(KEYS[at], KEYS[at + 1], KEYS[at + 2], ARGV[route.a + j],
      expiration, body, envelope)
  end
  return stored
end
-- A message's result from its pcall: its value, or the error Redis gave, as a string.
local function outcome(ok, value)
  if ok then return value end
  if type(value) == 'table' then return tostring(value.err) end
  return tostring(value)
end
`;
}

// One Redis: the due set is KEYS[1], marked in the same script as the store.
const ROUTING = routing(`
local function mark(name, at) redis.call('ZADD', KEYS[1], 'LT', at, name) end
`);

// A cluster: the earliest mark of each queue, returned for the caller to put
// on the due set (another slot) once the store succeeded.
const SLOT_ROUTING = routing(`
local marked = {}
local function mark(name, at)
  local was = marked[name]
  if not was or tonumber(at) < tonumber(was) then marked[name] = at end
end
local function marks()
  local out = {}
  for name, at in pairs(marked) do out[#out + 1] = name; out[#out + 1] = at end
  return out
end
`);

// A batch of publishes, each distinct route and envelope sent once. KEYS:
// due, delayed, delayed messages, delayed sequence, then the routes' (see
// ROUTING). ARGV: the routes, the number of envelopes and each of them, then
// runs of messages: a descriptor, "route envelope count expiration delay"
// (by their numbers; expiration ms and delay ms "" for none), then the run's
// bodies (publish-batcher.ts builds them).
// Returns per message the number of queues that stored it, -1 when the
// bindings changed since the caller routed (it re-reads them and retries),
// or an error string when Redis refused it (the batch's others go on); one
// value alone when it is every message's (the common case: a shorter reply
// to write and to parse than one per message).
// A delayed message is held (result 1) in the delayed set, scored by its due
// time on Redis's clock and numbered in send order, until a sweeper
// releases it. Its route names no queue (they are chosen when it is due):
// its version is checked all the same, which is how a deleted exchange shows.
const PUBLISH = `${ROUTING}
local function hold(delay, body, envelope)
  local id = string.format('%016.0f', redis.call('INCR', KEYS[4]))
  now = now or clock()
  redis.call('HSET', KEYS[3], id .. ':b', body, id .. ':m', envelope)
  redis.call('ZADD', KEYS[2], string.format('%.0f', now + tonumber(delay)), id)
  return 1
end
-- The streams of a route's declared queues when none of them has a ttl or a
-- maxLength, so that storing a message is one XADD per stream, as it is for
-- a client writing its own script (store()'s checks per message and queue
-- cost Redis about a fifth more time per message); false otherwise.
local function plainStreams(route)
  local streams = {}
  for j = 0, route.n - 1 do
    local at = route.k + 3 * j
    local q = queueMeta(KEYS[at])
    if q[2] or q[3] then return false end
    if q[1] then streams[#streams + 1] = KEYS[at + 1] end
  end
  return streams
end
-- A message into plain streams: how many stored it, or the error Redis gave
-- (the streams after it not tried, as when publish() raises).
local function publishPlain(streams, body, envelope)
  for s = 1, #streams do
    local id = redis.pcall('XADD', streams[s], '*', 'b', body, 'm', envelope)
    if type(id) == 'table' then return tostring(id.err) end
  end
  return #streams
end
local routes, a = readRoutes(5)
local envelopes = a
a = a + 1 + tonumber(ARGV[a])
local results = {}
local n = 0
while a <= #ARGV do
  local r, e, count, expiration, delay = string.match(ARGV[a], '^(%d+) (%d+) (%d+) ([^ ]*) ([^ ]*)$')
  local route = routes[tonumber(r)]
  local envelope = ARGV[envelopes + tonumber(e)]
  local last = a + tonumber(count)
  local streams = not route.stale and delay == '' and expiration == '' and plainStreams(route)
  for i = a + 1, last do
    local result = -1
    if streams then
      result = publishPlain(streams, ARGV[i], envelope)
    elseif not route.stale then
      if delay == '' then
        result = outcome(pcall(publish, route, expiration, ARGV[i], envelope))
      else
        result = outcome(pcall(hold, delay, ARGV[i], envelope))
      end
    end
    n = n + 1
    results[n] = result
  end
  a = last + 1
end
for i = 2, n do
  if results[i] ~= results[1] then return results end
end
return results[1]
`;

// Delayed messages, due, into their queues: each routed by the caller with
// the bindings in force now, stored and removed from the delayed set at
// once. KEYS: due, delayed, delayed messages, then the routes' (see
// ROUTING). ARGV: the routes, then per message its route's number,
// expiration ms ("") and its number in the delayed set.
// Returns per message the number of queues that stored it; -1 when the
// bindings changed (the caller routes it again); -2 when it is no longer
// held, because another sweeper released it first: so no message is
// released twice; or an error string when Redis refused to store it: then
// it stays held for RELEASE_RETRY_MS more and is tried again.
const RELEASE_RETRY_MS = 1000;
const RELEASE = `${ROUTING}
local function release(route, expiration, id)
  if not redis.call('ZSCORE', KEYS[2], id) then return -2 end
  local fields = {id .. ':b', id .. ':m'}
  local held = redis.call('HMGET', KEYS[3], unpack(fields))
  local ok, stored = true, 0
  -- Half a message (another writer's) is dropped: there is nothing to deliver.
  if held[1] and held[2] then ok, stored = pcall(publish, route, expiration, held[1], held[2]) end
  if not ok then
    now = now or clock()
    redis.call('ZADD', KEYS[2], 'XX', string.format('%.0f', now + ${RELEASE_RETRY_MS}), id)
    return outcome(ok, stored)
  end
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], unpack(fields))
  return stored
end
local routes, a = readRoutes(4)
local results = {}
while a <= #ARGV do
  local route = routes[tonumber(ARGV[a])]
  local result = -1
  if not route.stale then result = release(route, ARGV[a + 1], ARGV[a + 2]) end
  results[#results + 1] = result
  a = a + 3
end
return results
`;

// A cluster's store: messages into queues of one slot, routed and checked by
// the caller (the binding versions are in the topology's slot). KEYS: meta,
// stream and dead of each queue. ARGV: the number of queues, their names,
// then per message its expiration ms (""), body, envelope, the number of its
// queues here and their indexes (from 1). Returns {results, marks}: per
// message the number of queues that stored it or the error Redis gave (the
// others go on), and the queues to put on the due set, flat: name, at.
const SLOT_STORE = `${SLOT_ROUTING}
local n = tonumber(ARGV[1])
local function storeIn(first, count, expiration, body, envelope)
  local stored = 0
  for i = first, first + count - 1 do
    local q = tonumber(ARGV[i])
    local k = 3 * (q - 1)
    stored = stored + store(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[1 + q], expiration, body, envelope)
  end
  return stored
end
local results = {}
local a = n + 2
while a <= #ARGV do
  local count = tonumber(ARGV[a + 3])
  results[#results + 1] = outcome(pcall(storeIn, a + 4, count, ARGV[a], ARGV[a + 1], ARGV[a + 2]))
  a = a + 4 + count
end
return {results, marks()}
`;

// A cluster's release, step one. KEYS: delayed, delayed messages. ARGV: the
// most to return, the lease ms. The delayed messages due by Redis's clock,
// each leased (its score moved the lease ahead) so that other sweepers leave
// it while this one stores it in its queues' slots; flat: number, due score,
// envelope, body ("" when missing). A sweeper that dies meanwhile leaves it
// to be released again when the lease ends: at least once.
const CLAIM_DUE = `${CLOCK}
local out = {}
local now = clock()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now),
  'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
local leased = string.format('%.0f', now + tonumber(ARGV[2]))
for i = 1, #due, 2 do
  local id = due[i]
  redis.call('ZADD', KEYS[1], 'XX', leased, id)
  local held = redis.call('HMGET', KEYS[2], id .. ':m', id .. ':b')
  out[#out + 1] = id
  out[#out + 1] = due[i + 1]
  out[#out + 1] = held[1] or ''
  out[#out + 1] = held[2] or ''
end
return out
`;

// KEYS: delayed, delayed messages. ARGV: the most to return. The delayed
// messages due by Redis's clock, earliest first, flat: number, envelope
// ("" when it is missing).
const DUE = `${CLOCK}
local out = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', clock()),
  'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id .. ':m') or ''
end
return out
`;

// KEYS: stream, dead, meta, due. ARGV: group, queue name.
// Expires the queue's head, as RabbitMQ does: ready entries (after the
// group's last-delivered id) are removed from the front while expired, into
// the dead stream when the queue has a dead-letter exchange. Then reschedules
// the queue on the due set: 0 while dead letters wait, else the new head's
// expiry, else off the set. Returns the number of dead letters waiting.
// On a cluster (`reschedule` below) the due set is in another slot: KEYS are
// stream, dead, meta, and it returns {dead letters, when next due (-1: never)}
// for the caller to reschedule.
function sweep(reschedule: string, gone: string): string {
  return `${CLOCK}
local now = clock()
local dlx = redis.call('HGET', KEYS[3], 'dlx')
local last = '0-0'
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then ${gone} end
for _, g in ipairs(groups) do
  local name, id
  for j = 1, #g, 2 do
    if g[j] == 'name' then name = g[j + 1] elseif g[j] == 'last-delivered-id' then id = g[j + 1] end
  end
  if name == ARGV[1] then last = id end
end
local nextAt
while true do
  local head = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)[1]
  if not head then break end
  local f = head[2]
  local at
  for j = 1, #f, 2 do if f[j] == 'x' then at = tonumber(f[j + 1]) end end
  if not at or at > now then nextAt = at; break end
  if dlx then
    f[#f + 1] = 'why'; f[#f + 1] = 'expired'
    redis.call('XADD', KEYS[2], '*', unpack(f))
  end
  redis.call('XDEL', KEYS[1], head[1])
end
local dead = redis.call('XLEN', KEYS[2])
${reschedule}
`;
}

const SWEEP = sweep(
  `if dead > 0 then redis.call('ZADD', KEYS[4], 0, ARGV[2])
elseif nextAt then redis.call('ZADD', KEYS[4], nextAt, ARGV[2])
else redis.call('ZREM', KEYS[4], ARGV[2]) end
return dead`,
  `redis.call('ZREM', KEYS[4], ARGV[2]); return 0`,
);

const SLOT_SWEEP = sweep(
  `if dead > 0 then return {dead, 0} end
return {0, nextAt or -1}`,
  "return {0, -1}",
);

// The ids in ARGV[5] (space-separated: one argument, not one per id, costs
// the client and Redis less per id) that consumer ARGV[2] still owns in
// group ARGV[1] of stream KEYS[1], as a map from id to the PEL's delivery
// count; ARGV[3] and ARGV[4] are the lowest and the highest of them
// (ownedInRange computes them: Lua compares strings by the server's locale).
// One XPENDING over that range, filtered by the consumer, answers for all of
// them; a call per id cost the script most of its time (an ack of 100 took
// 256 µs of Redis's time, now 160). One per id only when the range holds
// more of the consumer's entries than that query returned. No group or no
// stream: none owned.
const OWNED = `
local ids = {}
for id in string.gmatch(ARGV[5] or '', '%S+') do ids[#ids + 1] = id end
local function ownedIds()
  local owned = {}
  if #ids == 0 then return owned end
  local limit = #ids * 2 + 100
  local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[4], limit, ARGV[2])
  if type(p) ~= 'table' or p.err then return owned end
  if #p < limit then
    for _, e in ipairs(p) do owned[e[1]] = e[4] end
    return owned
  end
  for _, id in ipairs(ids) do
    local q = redis.pcall('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    if type(q) == 'table' and q[1] ~= nil and q[1][2] == ARGV[2] then owned[id] = q[1][4] end
  end
  return owned
end
local owned = ownedIds()
`;

// KEYS: stream. ARGV: group, consumer, lowest id, highest id, ids. Acks and
// deletes the entries this consumer owns; returns the ids it no longer owns
// (reclaimed by another).
const SETTLE = `${OWNED}
local lost, settled = {}, {}
for _, id in ipairs(ids) do
  if owned[id] then
    settled[#settled + 1] = id
  elseif redis.call('EXISTS', KEYS[1]) == 1 then
    lost[#lost + 1] = id
  end
end
for i = 1, #settled, 1000 do
  local chunk = {unpack(settled, i, math.min(i + 999, #settled))}
  redis.call('XACK', KEYS[1], ARGV[1], unpack(chunk))
  redis.call('XDEL', KEYS[1], unpack(chunk))
end
return lost
`;

// KEYS: stream. ARGV: group, consumer, lowest id, highest id, ids. Re-adds
// each owned entry at the tail marked redelivered, then acks and deletes the
// original. Returns lost ids. The new entry's `r` holds the deliveries of
// the message before it, since Redis counts each entry's from 1: the old
// entry's `r` (1 when it is no count) plus what the PEL counted for it, all
// of them when `counted` is 1, all but the last when it is 0 (a read whose
// entries never reached the application).
function readd(counted: 0 | 1): string {
  return `${OWNED}
local lost = {}
for _, id in ipairs(ids) do
  local deliveries = owned[id]
  if deliveries then
    local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
    if entry then
      local args = {KEYS[1], '*'}
      local earlier = 0
      local f = entry[2]
      for j = 1, #f, 2 do
        if f[j] == 'r' then
          local n = tonumber(f[j + 1])
          if n and n >= 0 and n == math.floor(n) then earlier = n else earlier = 1 end
        else
          args[#args + 1] = f[j]; args[#args + 1] = f[j + 1]
        end
      end
      args[#args + 1] = 'r'
      args[#args + 1] = string.format('%.0f', math.max(0, earlier + deliveries - 1 + ${counted}))
      redis.call('XADD', unpack(args))
    end
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
  elseif redis.call('EXISTS', KEYS[1]) == 1 then
    lost[#lost + 1] = id
  end
end
return lost
`;
}

// KEYS: stream. ARGV: group, consumer, lowest id, highest id, ids. Resets
// the idle clock of each entry this consumer owns (a lease renewal). Returns
// the ids it lost.
const TOUCH = `${OWNED}
local lost = {}
for _, id in ipairs(ids) do
  if owned[id] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
  elseif redis.call('EXISTS', KEYS[1]) == 1 then
    lost[#lost + 1] = id
  end
end
return lost
`;

// KEYS: stream. ARGV: group. Deletes every entry not yet delivered to the
// group (after its last-delivered id) and returns how many.
const PURGE = `
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then return 0 end
local last
for _, g in ipairs(groups) do
  local name, id
  for j = 1, #g, 2 do
    if g[j] == 'name' then name = g[j + 1] elseif g[j] == 'last-delivered-id' then id = g[j + 1] end
  end
  if name == ARGV[1] then last = id end
end
if not last then return 0 end
local count = 0
while true do
  local entries = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 500)
  if #entries == 0 then return count end
  local ids = {}
  for i, e in ipairs(entries) do ids[i] = e[1] end
  redis.call('XDEL', KEYS[1], unpack(ids))
  count = count + #ids
end
`;

// KEYS: meta, stream. ARGV: group, declaration JSON, ttl (""), maxlen (""), "1" with a DLX ("").
// Creates the queue, or returns the existing declaration for comparison.
const DECLARE_QUEUE = `
local existing = redis.call('HGET', KEYS[1], 'decl')
if existing then return existing end
redis.call('HSET', KEYS[1], 'decl', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'ttl', ARGV[3]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'dlx', '1') end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'maxlen', ARGV[4]) end
redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
return false
`;

// KEYS: exchanges, the exchange's bindings, its version. ARGV: exchange
// name, new version, "set" (field, queue pairs follow) or "del" (fields).
// Changes the bindings and the version together, only while the exchange
// exists: a bind racing its deletion would otherwise leave bindings and a
// version behind for an exchange that is gone. Returns 0 when it is gone.
const CHANGE_BINDINGS = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local fields = {unpack(ARGV, 4)}
if ARGV[3] == 'set' then redis.call('HSET', KEYS[2], unpack(fields))
else redis.call('HDEL', KEYS[2], unpack(fields)) end
redis.call('SET', KEYS[3], ARGV[2])
return 1
`;

// KEYS: stream. ARGV: group, consumer. Removes the consumer from the group
// only when it owns nothing: DELCONSUMER would drop its pending entries.
const DROP_CONSUMER = `
local ok, p = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if ok and #p == 0 then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end
return 0
`;

/** A script on the entries of `ids` that `consumer` still owns; resolves to the ids it lost. */
type OwnershipScript = (
  stream: string,
  group: string,
  consumer: string,
  ...ids: string[]
) => Promise<string[]>;

/** Defined as `<name>InRange`, taking the lowest and highest id, then the ids in one argument. */
const OWNERSHIP_SCRIPTS = {
  carrotSettle: SETTLE,
  /** A requeue, and a give-back of what the application held: the delivery counts. */
  carrotRequeue: readd(1),
  /** Entries read but never handed to the application (a lost reply, a read after cancel). */
  carrotReturnUnseen: readd(0),
  carrotTouch: TOUCH,
};

/** The publish script's reply: each message's result, or the one result they all had. */
export type PublishResults = (number | string)[] | number | string;

/** Message `i`'s result in the publish script's `results`. */
export function publishResult(results: PublishResults, i: number): number | string | undefined {
  return Array.isArray(results) ? results[i] : results;
}

export interface RedisScripts {
  carrotDropConsumer(stream: string, group: string, consumer: string): Promise<number>;
  carrotPublish(numKeys: number, ...args: (string | Buffer)[]): Promise<PublishResults>;
  carrotSettle: OwnershipScript;
  carrotRequeue: OwnershipScript;
  carrotReturnUnseen: OwnershipScript;
  carrotTouch: OwnershipScript;
  carrotRelease(numKeys: number, ...args: string[]): Promise<(number | string)[]>;
  carrotDueDelayed(delayed: string, messages: string, limit: number): Promise<string[]>;
  carrotPurge(stream: string, group: string): Promise<number>;
  carrotChangeBindings(
    exchanges: string,
    bindings: string,
    version: string,
    exchange: string,
    newVersion: string,
    op: "set" | "del",
    ...fields: string[]
  ): Promise<number>;
  /** A cluster's store of messages into queues of one slot (`SLOT_STORE`). */
  carrotSlotStore(
    numKeys: number,
    ...args: (string | Buffer)[]
  ): Promise<[(number | string)[], string[]]>;
  /** A cluster's lease of due delayed messages (`CLAIM_DUE`), as bytes: bodies are binary. */
  carrotClaimDueBuffer(
    delayed: string,
    messages: string,
    limit: number,
    leaseMs: number,
  ): Promise<Buffer[]>;
  /** A cluster's sweep of one queue: {dead letters, next due or -1} (`SLOT_SWEEP`). */
  carrotSlotSweep(
    stream: string,
    dead: string,
    meta: string,
    group: string,
    queue: string,
  ): Promise<[number, number]>;
  carrotDeclareQueue(
    meta: string,
    stream: string,
    group: string,
    declaration: string,
    ttl: string,
    maxLength: string,
    deadLetter: string,
  ): Promise<string | null>;
  carrotSweep(
    stream: string,
    dead: string,
    meta: string,
    due: string,
    group: string,
    queue: string,
  ): Promise<number>;
}

export type ScriptedRedis = RedisClient & RedisScripts;

export function withScripts<C extends RedisClient>(redis: C): C & RedisScripts {
  redis.defineCommand("carrotPublish", { lua: PUBLISH });
  redis.defineCommand("carrotRelease", { lua: RELEASE });
  redis.defineCommand("carrotDueDelayed", { lua: DUE, numberOfKeys: 2 });
  redis.defineCommand("carrotPurge", { lua: PURGE, numberOfKeys: 1 });
  redis.defineCommand("carrotDeclareQueue", { lua: DECLARE_QUEUE, numberOfKeys: 2 });
  redis.defineCommand("carrotSweep", { lua: SWEEP, numberOfKeys: 4 });
  redis.defineCommand("carrotDropConsumer", { lua: DROP_CONSUMER, numberOfKeys: 1 });
  redis.defineCommand("carrotChangeBindings", { lua: CHANGE_BINDINGS, numberOfKeys: 3 });
  redis.defineCommand("carrotSlotStore", { lua: SLOT_STORE });
  redis.defineCommand("carrotClaimDue", { lua: CLAIM_DUE, numberOfKeys: 2 });
  redis.defineCommand("carrotSlotSweep", { lua: SLOT_SWEEP, numberOfKeys: 3 });
  const commands = redis as unknown as Record<string, OwnershipScript>;
  for (const [name, lua] of Object.entries(OWNERSHIP_SCRIPTS)) {
    redis.defineCommand(`${name}InRange`, { lua, numberOfKeys: 1 });
    const inRange = commands[`${name}InRange`]!.bind(redis);
    commands[name] = (stream, group, consumer, ...ids) =>
      inRange(stream, group, consumer, ...ownedInRange(ids));
  }
  return redis as C & RedisScripts;
}

/** The lowest and the highest of the ids, then the ids space-separated (what the ownership scripts take). */
function ownedInRange(ids: string[]): [string, string, string] | [] {
  if (ids.length === 0) return [];
  let low = ids[0] as string;
  let high = low;
  // Above the highest first: a consumer mostly settles in delivery order, and then that is one comparison per id.
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i] as string;
    if (idBefore(high, id)) high = id;
    else if (idBefore(id, low)) low = id;
  }
  return [low, high, ids.join(" ")];
}

/**
 * Stream id order ("ms-seq", decimal without leading zeros): a shorter ms
 * part is smaller; with ms parts of one length, the ids compare as text
 * unless the ms parts are equal and the seq parts differ in length, where
 * the shorter is smaller.
 */
function idBefore(a: string, b: string): boolean {
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  if (dashA !== dashB) return dashA < dashB;
  if (a.length === b.length || a.slice(0, dashA) !== b.slice(0, dashB)) return a < b;
  return a.length < b.length;
}
