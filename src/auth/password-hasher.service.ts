import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { appConfig, type AppConfig } from '../config/app.config';
import { HttpErrorWithHeaders } from '../common/http-error';
import { Meter } from '../common/meter';

/** bcrypt reads at most 72 bytes (of the NFC form); longer passwords are refused at validation, never cut. */
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

/** The outcome of PasswordHasher.check. */
export interface PasswordCheck {
  ok: boolean;
  /**
   * ok, and the stored hash should be re-made from the password's NFC form at BCRYPT_ROUNDS: its
   * cost or spelling is not today's (isStale), or it was made from a password that was not NFC.
   */
  rehash: boolean;
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

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    @Optional() private readonly meter?: Meter,
  ) {
    this.maxRunning = config.bcryptConcurrency;
    this.maxPriorityPending = Math.max(config.bcryptMaxPending, config.bcryptConcurrency);
    meter?.watchHashQueue(() => this.waiting.length + this.priorityWaiting.length);
  }

  async onModuleInit(): Promise<void> {
    // Compared against when the email is unknown, so that path costs the same as a wrong password.
    this.dummyHash = await bcrypt.hash('not-a-real-password', this.config.bcryptRounds);
  }

  /** Hashes the password's NFC form at BCRYPT_ROUNDS (the same text typed composed or decomposed is one password). */
  hash(password: string): Promise<string> {
    return this.limited(() => bcrypt.hash(password.normalize('NFC'), this.config.bcryptRounds));
  }

  /**
   * Checks a password against a stored hash, or against a dummy hash when there is none.
   * `lane: 'known-device'` waits in the lane reserved for known devices.
   */
  async verify(password: string, hash: string | undefined, lane: HashLane = 'general'): Promise<boolean> {
    return (await this.check(password, hash, lane)).ok;
  }

  /**
   * verify, also saying whether a matched hash should be re-made (PasswordCheck.rehash). The NFC
   * form is compared first. Hashes made before passwords were normalised hold the password as it
   * was typed, so when that differs from its NFC form it is compared too: a second bcrypt compare,
   * only for input that is not already NFC (what keyboards and browsers send almost always is),
   * done also against the dummy hash for an unknown email so the two paths still cost the same.
   */
  check(password: string, hash: string | undefined, lane: HashLane = 'general'): Promise<PasswordCheck> {
    const nfc = password.normalize('NFC');
    return this.limited(async () => {
      if (await this.compare(nfc, hash)) return { ok: true, rehash: this.isStale(hash!) };
      if (nfc !== password && (await this.compare(password, hash))) return { ok: true, rehash: true };
      return { ok: false, rehash: false };
    }, lane);
  }

  /**
   * A hash made at another cost than BCRYPT_ROUNDS, or spelled $2a$/$2y$ (the original system's):
   * re-made from the password at the next successful sign-in, so raising BCRYPT_ROUNDS reaches
   * every active account, and a wrong password for an old account costs what the dummy hash of an
   * unknown email costs (no timing tell).
   */
  isStale(hash: string): boolean {
    const parts = /^\$2([abxy])\$(\d{2})\$/.exec(hash);
    return parts !== null && (parts[1] !== 'b' || Number(parts[2]) !== this.config.bcryptRounds);
  }

  private async compare(password: string, hash: string | undefined): Promise<boolean> {
    // bcrypt would silently ignore bytes past 72, letting "stored password + anything" match.
    const comparable = hash !== undefined && Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;
    try {
      const ok = await bcrypt.compare(password, normalizeBcryptHash(comparable ? hash : this.dummyHash));
      return ok && comparable;
    } catch {
      return false; // a malformed stored hash matches nothing
    }
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
    const started = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      this.meter?.passwordHashed(Number(process.hrtime.bigint() - started) / 1e9);
      // The slot passes straight to the next waiter (known devices first), so no newcomer can take it in between.
      const next = this.priorityWaiting.shift() ?? this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
