import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app.config';
import { Clock } from '../common/clock';
import { addressKey } from './address-key';

export interface WindowLimit {
  key: string;
  limit: number;
}

export type Reservation = { allowed: true; at: number } | { allowed: false; retryAfterMs: number };

/**
 * Where failed-login counts live: sliding windows of timestamps per key. The in-memory store
 * below serves one instance; a shared store (Redis, say) implementing the same three operations
 * lets several instances enforce one limit.
 */
export interface LoginFailureStore {
  /**
   * Atomically: if any key already holds `limit` entries within the window, refuse and say when
   * the oldest of them leaves it; otherwise add one entry at `now` to every key.
   */
  reserve(limits: WindowLimit[], windowMs: number, now: number): Promise<Reservation>;
  /** Takes back an entry added by `reserve` (the attempt turned out not to be a failure). */
  release(keys: string[], at: number): Promise<void>;
  /** Forgets every entry of a key. */
  reset(key: string): Promise<void>;
}

export const LOGIN_FAILURE_STORE = Symbol('LOGIN_FAILURE_STORE');

export class InMemoryLoginFailureStore implements LoginFailureStore {
  private readonly windows = new Map<string, number[]>();
  private sweeps = 0;

  // In memory, so synchronous; the interface is async for a shared store.
  reserve(limits: WindowLimit[], windowMs: number, now: number): Promise<Reservation> {
    if (++this.sweeps % 1000 === 0) this.sweep(windowMs, now);
    let retryAfterMs = 0;
    for (const { key, limit } of limits) {
      const recent = this.recent(key, windowMs, now);
      if (recent.length >= limit) retryAfterMs = Math.max(retryAfterMs, recent[recent.length - limit] + windowMs - now);
    }
    if (retryAfterMs > 0) return Promise.resolve({ allowed: false, retryAfterMs });
    for (const { key } of limits) this.recent(key, windowMs, now).push(now);
    return Promise.resolve({ allowed: true, at: now });
  }

  release(keys: string[], at: number): Promise<void> {
    for (const key of keys) {
      const list = this.windows.get(key);
      const i = list?.lastIndexOf(at) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    }
    return Promise.resolve();
  }

  reset(key: string): Promise<void> {
    this.windows.delete(key);
    return Promise.resolve();
  }

  /** The key's timestamps within the window (older ones dropped), oldest first. */
  private recent(key: string, windowMs: number, now: number): number[] {
    const list = (this.windows.get(key) ?? []).filter((t) => t > now - windowMs);
    this.windows.set(key, list);
    return list;
  }

  /** Drops keys with nothing left in the window, so memory follows recent traffic only. */
  private sweep(windowMs: number, now: number): void {
    for (const [key, list] of this.windows) if (!list.some((t) => t > now - windowMs)) this.windows.delete(key);
  }
}

/**
 * `failure` keeps the attempt's place in the windows; `success` gives it back and clears the
 * account's count for that address; `cancelled` (the password was never checked, e.g. the hashing
 * queue was full) only gives the place back.
 */
export type ThrottleOutcome = 'failure' | 'success' | 'cancelled';

export type ThrottleDecision =
  | { allowed: true; knownDevice: boolean; settle: (outcome: ThrottleOutcome) => Promise<void> }
  | { allowed: false; retryAfterSeconds: number };

/**
 * The contract's three failed-login limits (per account from one address, per address, per
 * account), each over a sliding window. An attempt takes its place in all three windows before
 * the password is checked, so a burst of concurrent guesses cannot slip past the limit; a success
 * gives the place back and clears that account's count for that address. Unknown emails are
 * counted exactly like known ones. An address is counted by `addressKey`: an IPv6 /64 is one
 * address.
 *
 * A known device (a login carrying a genuine device cookie for the account, device-cookie.ts) is
 * counted only under its own key, `device:<nonce>`, with the per-account-and-address limit, and is
 * exempt from the three others (OWASP's device cookies): a flood from many addresses, or against
 * the account, cannot lock out a browser that signed in before, while a stolen device cookie gives
 * no more guesses than one address has. Once the device's own window is full, the device is
 * trusted no longer in that window and its attempts fall back to the three limits, as OWASP's
 * algorithm treats a locked-out device cookie as an untrusted client.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(LOGIN_FAILURE_STORE) private readonly store: LoginFailureStore,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async begin(email: string, address: string | null, deviceNonce: string | null = null): Promise<ThrottleDecision> {
    const ip = addressKey(address);
    const { accountAddress, address: perAddress, account, windowSeconds } = this.config.loginLimits;
    const windowMs = windowSeconds * 1000;
    if (deviceNonce !== null) {
      const limits = [{ key: `device:${deviceNonce}`, limit: accountAddress }];
      const reservation = await this.store.reserve(limits, windowMs, this.clock.now().getTime());
      if (reservation.allowed) return this.allowed(limits, reservation.at, true);
    }
    const limits = [
      { key: `account-address:${email}|${ip}`, limit: accountAddress },
      { key: `address:${ip}`, limit: perAddress },
      { key: `account:${email}`, limit: account },
    ];
    const reservation = await this.store.reserve(limits, windowMs, this.clock.now().getTime());
    if (!reservation.allowed)
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(reservation.retryAfterMs / 1000)) };
    return this.allowed(limits, reservation.at, false);
  }

  /** The places taken; the first key's count is the one a success clears. */
  private allowed(limits: WindowLimit[], at: number, knownDevice: boolean): ThrottleDecision {
    return {
      allowed: true,
      knownDevice,
      settle: async (outcome) => {
        if (outcome === 'failure') return;
        await this.store.release(
          limits.map((l) => l.key),
          at,
        );
        if (outcome === 'success') await this.store.reset(limits[0].key);
      },
    };
  }
}
