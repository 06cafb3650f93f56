import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { redisUnavailable } from '../redis/redis-unavailable';
import type { LoginFailureStore, Reservation, WindowLimit } from './login-throttle';

/**
 * KEYS: the window keys. ARGV: window (ms), now (ms), the new entry's member, then each key's limit.
 * Drops entries that left the window; if a key is full, returns how long until its oldest counted
 * entry leaves; otherwise adds the entry to every key, renews their expiry and returns 0.
 */
const RESERVE = `
local window = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local retry = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[3 + i])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    retry = math.max(retry, tonumber(oldest[2]) + window - now)
  end
end
if retry > 0 then return retry end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
end
return 0
`;

/** KEYS: the window keys. ARGV: a timestamp. Removes one entry with that timestamp from each key. */
const RELEASE = `
for _, key in ipairs(KEYS) do
  local found = redis.call('ZRANGEBYSCORE', key, ARGV[1], ARGV[1], 'LIMIT', 0, 1)
  if found[1] then redis.call('ZREM', key, found[1]) end
end
return 0
`;

interface LoginScripts {
  loginReserve(...args: Array<string | number>): Promise<number>;
  loginRelease(...args: Array<string | number>): Promise<number>;
}

/**
 * Failed-login counts in Redis, shared by every instance: one sorted set per window key
 * (`<prefix>login:<key>`), an entry per counted attempt scored by its time. `reserve` and `release`
 * are Lua scripts, so each runs atomically however many instances call at once; members are the
 * time plus random bytes, so two attempts in the same millisecond are two entries. Each set expires
 * a window after its latest entry. Any Redis failure becomes 503: no count, no login.
 */
export class RedisLoginFailureStore implements LoginFailureStore {
  private readonly redis: Redis & LoginScripts;

  constructor(client: Redis) {
    client.defineCommand('loginReserve', { lua: RESERVE });
    client.defineCommand('loginRelease', { lua: RELEASE });
    this.redis = client as Redis & LoginScripts;
  }

  async reserve(limits: WindowLimit[], windowMs: number, now: number): Promise<Reservation> {
    const member = `${now}:${randomBytes(8).toString('hex')}`;
    const retryAfterMs = await this.run(() =>
      this.redis.loginReserve(
        limits.length,
        ...limits.map((l) => keyOf(l.key)),
        windowMs,
        now,
        member,
        ...limits.map((l) => l.limit),
      ),
    );
    return retryAfterMs > 0 ? { allowed: false, retryAfterMs } : { allowed: true, at: now };
  }

  async release(keys: string[], at: number): Promise<void> {
    await this.run(() => this.redis.loginRelease(keys.length, ...keys.map(keyOf), at));
  }

  async reset(key: string): Promise<void> {
    await this.run(() => this.redis.del(keyOf(key)));
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw redisUnavailable(error);
    }
  }
}

function keyOf(key: string): string {
  return `login:${key}`;
}
