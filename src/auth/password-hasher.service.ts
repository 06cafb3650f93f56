import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { appConfig, type AppConfig } from '../config/app.config';
import { HttpErrorWithHeaders } from '../common/http-error';

/** bcrypt reads at most 72 bytes; longer passwords are refused at validation, never cut. */
export const MAX_PASSWORD_BYTES = 72;

/** Which waiting lane a hash joins when every slot is busy (see PasswordHasher). */
export type HashLane = 'general' | 'known-device';

/**
 * `$2y$` (PHP, some Flask setups) and `$2a$` are the same algorithm as `$2b$` for any password
 * we accept; the native binding is given the `$2b$` spelling so every original hash verifies.
 */
export function normalizeBcryptHash(hash: string): string {
  return hash.startsWith('$2y$') ? `$2b$${hash.slice(4)}` : hash;
}

/**
 * bcrypt on the native binding (the work runs on libuv's thread pool, not the event loop; the
 * pure-JS bcryptjs stalled every other request for up to ~850 ms under concurrent logins here).
 * Hashing is deliberately slow, so the number of hashes in flight is bounded: `BCRYPT_CONCURRENCY`
 * run (by default one core fewer than the machine has, so a login storm leaves the event loop a
 * core and every other request keeps its speed), `BCRYPT_MAX_PENDING` more may wait, and any
 * beyond that get 503 with Retry-After rather than a long queue that would time out anyway.
 *
 * Checks for a known device (a login carrying a valid device cookie for its account, see
 * device-cookie.ts) wait in a lane of their own, served before the general one whenever a slot
 * frees: a flood of untrusted logins fills only the general lane, so a known device waits at most
 * for the hashes running and the known devices ahead of it, and gets 503 only when its own lane is
 * full. That lane holds BCRYPT_MAX_PENDING checks, and at least BCRYPT_CONCURRENCY.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly maxRunning: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly priorityWaiting: Array<() => void> = [];
  private readonly maxPriorityPending: number;
  private dummyHash = '';

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {
    this.maxRunning = config.bcryptConcurrency;
    this.maxPriorityPending = Math.max(config.bcryptMaxPending, config.bcryptConcurrency);
  }

  async onModuleInit(): Promise<void> {
    // Compared against when the email is unknown, so that path costs the same as a wrong password.
    this.dummyHash = await bcrypt.hash('not-a-real-password', this.config.bcryptRounds);
  }

  hash(password: string): Promise<string> {
    return this.limited(() => bcrypt.hash(password, this.config.bcryptRounds));
  }

  /**
   * Checks a password against a stored hash, or against a dummy hash when there is none.
   * `lane: 'known-device'` waits in the lane reserved for known devices.
   */
  verify(password: string, hash: string | undefined, lane: HashLane = 'general'): Promise<boolean> {
    // bcrypt would silently ignore bytes past 72, letting "stored password + anything" match.
    const comparable = hash !== undefined && Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;
    return this.limited(async () => {
      try {
        const ok = await bcrypt.compare(password, normalizeBcryptHash(comparable ? hash : this.dummyHash));
        return ok && comparable;
      } catch {
        return false; // a malformed stored hash matches nothing
      }
    }, lane);
  }

  private async limited<T>(work: () => Promise<T>, lane: HashLane = 'general'): Promise<T> {
    if (this.running >= this.maxRunning) {
      const [queue, max] =
        lane === 'known-device'
          ? [this.priorityWaiting, this.maxPriorityPending]
          : [this.waiting, this.config.bcryptMaxPending];
      if (queue.length >= max) {
        throw new HttpErrorWithHeaders(503, 'Too many sign-in requests at once; retry shortly', { 'Retry-After': '1' });
      }
      await new Promise<void>((resolve) => queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter (known devices first), so no newcomer can take it in between.
      const next = this.priorityWaiting.shift() ?? this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
